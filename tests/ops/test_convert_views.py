"""View ops of issue 18 as torch modules write them: "Transpose" (permute, transpose), "Expand"
(expand, broadcast to a fixed shape), "Tile" (repeat: VNet's input transition), "Split" (torch.split
with sizes and chunk with equal parts, opset 11's attribute and opset 13's input; several outputs),
"Cast" (float casts, the identity; integer casts of shapes folded), "Where" on a constant mask. Each
goes through torch.onnx.export, weights/convert.py and the Python binding, and matches PyTorch eager
within max abs err <= 1e-4 * max(1, max |ref|). Bad input (a Transpose with a bad permutation, an
Expand to an incompatible shape, a Cast of a run-time tensor to an integer type) is a ConvertError
naming the node."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import convert
from torch_parity import check_against_torch

torch.set_num_threads(1)


class Lambda(nn.Module):
    def __init__(self, fn, conv=None):
        super().__init__()
        self.fn, self.conv = fn, conv

    def forward(self, x):
        return self.fn(self.conv(x) if self.conv is not None else x)


class Masked(nn.Module):
    """torch.where with a constant mask buffer, as attention masks are written."""

    def __init__(self, shape):
        super().__init__()
        self.register_buffer("mask", torch.rand(*shape, generator=torch.Generator().manual_seed(3)) > 0.5)

    def forward(self, x):
        return torch.where(self.mask, x * 2, torch.tensor(-100.0)) + torch.where(self.mask, 0.0, x)


def split_mix(x):
    a, b, c = torch.split(x, [1, 2, 3], dim=1)
    return torch.cat([c * 2, a, b + 1], 1)


def chunk_mix(x):
    a, b = torch.split(x, 4, dim=-1)
    return a * torch.sigmoid(b)


def same_pad(x):
    """MONAI's same padding: pad sizes computed from the input's shape (torch writes Casts for them)."""
    k = 3
    pads = []
    for d in reversed(x.shape[2:]):
        total = max(k - 1 - (int(d) - 1) % 1, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


CASES = {
    "permute_nhwc": (lambda x: x.permute(0, 2, 3, 1).contiguous() * 1.5, (2, 3, 9, 7), None),
    "transpose_last_two": (lambda x: x.transpose(-1, -2) + 1, (2, 4, 33, 40), None),
    "permute5d_heads": (lambda x: x.permute(0, 3, 1, 4, 2) - 1, (2, 3, 4, 5, 6), None),
    "expand_channels": (lambda x: x.expand(-1, 16, -1, -1, -1) * 1.0, (2, 1, 5, 6, 4), None),
    "expand_shape": (lambda x: x[:, 1:2].expand(2, 8, 7, 9), (2, 3, 7, 9), None),
    "repeat_vnet": (lambda x: x.repeat(1, 16, 1, 1, 1) + x, (1, 1, 6, 5, 4), None),
    "repeat_all": (lambda x: x.repeat(2, 1, 3, 2) * 0.5, (1, 3, 4, 5), None),
    "split_sizes": (split_mix, (2, 6, 5, 4), None),
    "chunk_last": (chunk_mix, (2, 3, 5, 8), None),
    "cast_float": (lambda x: x.double().float() + x.float(), (2, 3, 5), None),
    "same_pad": (same_pad, (1, 2, 7, 6), None),
    "where_const_mask": (None, (2, 3, 4, 5), "masked"),
}


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("name", list(CASES))
def test_view_op_matches_torch(name, opset, tmp_path):
    fn, shape, kind = CASES[name]
    torch.manual_seed(0)
    module = Masked(shape[1:]) if kind == "masked" else Lambda(fn)
    x = torch.randn(*shape)
    ops = check_against_torch(module.eval(), x, tmp_path, opset=opset, threads=2)
    expected = {"permute": "Transpose", "transpose": "Transpose", "expand": "Expand", "repeat": "Tile",
                "split": "Split", "chunk": "Split", "where": "Where"}
    for prefix, op in expected.items():
        if name.startswith(prefix):
            assert op in ops, ops


def test_view_ops_after_conv(tmp_path):
    """Between computed tensors in a conv network, with a batch the splitter may cut."""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv3d(1, 16, 3, padding=1)
            self.c2 = nn.Conv3d(16, 4, 1)

        def forward(self, x):
            y = self.c1(x) + x.repeat(1, 16, 1, 1, 1)
            a, b = torch.split(self.c2(y), 2, dim=1)
            return (a * b).permute(0, 1, 4, 2, 3)

    ops = check_against_torch(Net().eval(), torch.randn(2, 1, 8, 9, 10), tmp_path, threads=2)
    assert {"Tile", "Split", "Transpose"} <= set(ops), ops


def _model(nodes, inputs, outputs, inits=()):
    import onnx
    from onnx import TensorProto, helper
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs], list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def test_bad_permutation_is_a_convert_error():
    from onnx import helper
    m = _model([helper.make_node("Transpose", ["x"], ["y"], name="tp", perm=[0, 2, 2, 1])], [("x", [1, 2, 3, 4])], ["y"])
    with pytest.raises(convert.ConvertError, match=r"Transpose node 'tp'.*not a permutation"):
        convert.convert_onnx(m)
    m = _model([helper.make_node("Transpose", ["x"], ["y"], name="tp", perm=[0, 1, 2])], [("x", [1, 2, 3, 4])], ["y"])
    with pytest.raises(convert.ConvertError, match=r"Transpose node 'tp'"):
        convert.convert_onnx(m)


def test_incompatible_expand_is_a_convert_error():
    from onnx import helper, numpy_helper
    shape = numpy_helper.from_array(np.array([1, 3, 4, 5], np.int64), "shape")
    m = _model([helper.make_node("Expand", ["x", "shape"], ["y"], name="ex")], [("x", [1, 2, 4, 5])], ["y"], [shape])
    with pytest.raises(convert.ConvertError, match=r"Expand node 'ex'.*cannot expand"):
        convert.convert_onnx(m)


def test_integer_cast_of_a_runtime_tensor_is_a_convert_error():
    from onnx import TensorProto, helper
    m = _model([helper.make_node("Cast", ["x"], ["y"], name="to_int", to=TensorProto.INT64)], [("x", [1, 2, 3])], ["y"])
    with pytest.raises(convert.ConvertError, match=r"Cast node 'to_int'"):
        convert.convert_onnx(m)


def test_runtime_condition_is_a_convert_error():
    from onnx import helper
    nodes = [helper.make_node("Greater", ["x", "z"], ["c"], name="gt"),
             helper.make_node("Where", ["c", "x", "z"], ["y"], name="wh")]
    m = _model(nodes, [("x", [1, 2, 3]), ("z", [1, 2, 3])], ["y"])
    with pytest.raises(convert.ConvertError, match=r"(Where node 'wh'.*run time)|(op 'Greater')"):
        convert.convert_onnx(m)
