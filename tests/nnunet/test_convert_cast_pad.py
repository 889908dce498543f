"""The converter folds the Cast nodes PyTorch writes for computed F.pad sizes (MONAI's
same-padding) with Debian's onnx 1.12, which lacks onnx.helper.tensor_dtype_to_np_dtype; the
converted model runs through the Python binding equal to PyTorch."""
import io

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F

import convert
import voxinfer

torch.set_num_threads(1)


class SamePad(torch.nn.Module):
    """Pads each spatial axis up to a multiple of 4 from sizes computed from the input's shape,
    the pattern that makes torch.onnx.export write Shape -> Gather -> arithmetic -> Cast."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv3d(2, 3, 3)

    def forward(self, x):
        pads = []
        for d in (4, 3, 2):
            size = x.shape[d]
            extra = (4 - size % 4) % 4
            pads += [extra // 2, extra - extra // 2]
        return self.conv(F.pad(x, pads, value=0.5))


def export(module, x):
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module.eval(), (x,), buf, opset_version=13, do_constant_folding=False,
                          input_names=["input"], output_names=["output"])
    return buf.getvalue()


def test_computed_pad_export_has_a_cast():
    """The premise: without this the converter's Cast folding is not exercised."""
    m = onnx.load_from_string(export(SamePad(), torch.zeros(1, 2, 5, 6, 7)))
    assert "Cast" in [n.op_type for n in m.graph.node]


def test_computed_pad_converts_and_runs_equal_to_torch(tmp_path):
    torch.manual_seed(0)
    module = SamePad().eval()
    x = torch.randn(1, 2, 5, 6, 7)
    out = tmp_path / "samepad.vxm"
    graph, _, _ = convert.convert_onnx(export(module, x), str(out), input_shapes={"input": list(x.shape)})
    assert "Pad" in [n["op"] for n in graph["nodes"]]
    with torch.no_grad():
        ref = module(x).numpy()
    with voxinfer.Model(str(out), threads=1) as m:
        y = m.run(x.numpy())
    assert y.shape == ref.shape == (1, 3, 6, 6, 6)
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-5)


def test_cast_to_an_unknown_type_is_a_clear_error():
    node = onnx.helper.make_node("Cast", ["a"], ["b"], name="cast_x", to=999)
    with pytest.raises(convert.ConvertError, match="cast_x.*999"):
        convert._fold("Cast", node, [np.zeros(2, np.int64)], {"to": 999}, 13)


def test_mod_folds_with_onnx_sign_rules():
    node = onnx.helper.make_node("Mod", ["a", "b"], ["c"], name="mod")
    a, b = np.array([-7, 7, -7], np.int64), np.array([3, -3, -3], np.int64)
    np.testing.assert_array_equal(convert._fold("Mod", node, [a, b], {}, 13), [2, -2, -1])  # as Python's %
    np.testing.assert_array_equal(convert._fold("Mod", node, [a, b], {"fmod": 1}, 13), [-1, 1, -1])  # as C's fmod
