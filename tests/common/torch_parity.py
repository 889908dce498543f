"""Export a torch module, convert it with weights/convert.py, run it through the Python binding
and compare with PyTorch eager: the oracle of the op conversion tests (tests/ops/test_convert_*.py).
The bound is max abs err <= rel * max(1, max |ref|)."""
import io

import numpy as np
import torch
import torch.nn as nn

import convert
import voxinfer



class Fn(nn.Module):
    """A function as a module, for exporting one op or expression."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def export_onnx(module, x, opset=13, fold=True):
    """torch.onnx.export of `module` on `x` (one input "input", one output "output"), as bytes."""
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module.eval(), (x,), buf, opset_version=opset, do_constant_folding=fold,
                          input_names=["input"], output_names=["output"])
    return buf.getvalue()


def check_against_torch(module, x, tmp_path, opset=13, fold=True, threads=1, rel=1e-4):
    """Converts and runs `module`, asserts parity with PyTorch; returns the converted graph's op list."""
    onnx_bytes = export_onnx(module, x, opset, fold)
    with torch.no_grad():
        ref = module(x).numpy()
    out = tmp_path / "m.vxm"
    graph, _, _ = convert.convert_onnx(onnx_bytes, str(out), input_shapes={"input": list(x.shape)})
    with voxinfer.Model(str(out), threads=threads) as m:
        y = m.run(x.numpy())
    assert y.shape == ref.shape, (y.shape, ref.shape)
    err, bound = float(np.max(np.abs(y - ref))), rel * max(1.0, float(np.max(np.abs(ref))))
    assert err <= bound, f"max abs err {err:.3g} > {bound:.3g}"
    return [n["op"] for n in graph["nodes"]]
