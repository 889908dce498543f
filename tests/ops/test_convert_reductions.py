"""Reductions, LayerNorm and (Log)Softmax as torch modules write them go through torch.onnx.export,
weights/convert.py and the Python binding, and match PyTorch eager within max abs err <= 1e-4 *
max(1, max |ref|):
  - torch.mean / sum / amax / amin / prod / norm / logsumexp over any axes, keepdim both ways
    (ReduceSum at opset 13 takes its axes as an input, folded into the attribute by the converter);
  - nn.LayerNorm at opset 17 (LayerNormalization) and at opset 13 (ReduceMean-Sub-Pow-ReduceMean-Add-
    Sqrt-Div-Mul-Add, fused into one LayerNormalization when the intermediates have no other reader,
    left as it is otherwise);
  - Softmax / LogSoftmax on the last axis of rank-3/4 tensors at opsets 11 and 13, and on a middle
    axis at opset 11 (the 2-D coercion: Flatten, the op on axis 1, Reshape)."""
import numpy as np
import pytest
import torch
import torch.nn as nn

import convert
from torch_parity import Fn, check_against_torch, export_onnx

torch.set_num_threads(1)


REDUCTIONS = {
    "mean_spatial_keep": (lambda x: x.mean(dim=(2, 3, 4), keepdim=True), "ReduceMean"),
    "mean_last": (lambda x: x.mean(dim=-1), "ReduceMean"),
    "sum_channels": (lambda x: x.sum(dim=1), "ReduceSum"),
    "sum_split_keep": (lambda x: x.sum(dim=(1, 3), keepdim=True), "ReduceSum"),
    "sum_all": (lambda x: x.sum().reshape(1), "ReduceSum"),
    "amax_spatial": (lambda x: torch.amax(x, dim=(2, 3, 4)), "ReduceMax"),
    "max_dim_values": (lambda x: torch.max(x, dim=2)[0], "ReduceMax"),
    "amin_keep": (lambda x: torch.amin(x, dim=1, keepdim=True), "ReduceMin"),
    "prod_last": (lambda x: (x.abs() * 0.3 + 0.8).prod(dim=-1), "ReduceProd"),
    "l2_channels": (lambda x: torch.norm(x, p=2, dim=1), "ReduceL2"),
    "logsumexp": (lambda x: torch.logsumexp(x * 3, dim=1), "ReduceLogSumExp"),
    "batch_mean": (lambda x: x.mean(dim=0, keepdim=True) - x, "ReduceMean"),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_matches_torch(name, tmp_path):
    torch.manual_seed(0)
    fn, op = REDUCTIONS[name]
    ops = check_against_torch(Fn(fn), torch.randn(2, 6, 5, 4, 7) + 0.5, tmp_path, threads=2)
    assert op in ops, ops


def test_s3d_style_head(tmp_path):
    """Conv -> ReLU -> torch.mean over (T, H, W): torchvision S3D's classifier end."""
    torch.manual_seed(1)
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.m = nn.Sequential(nn.Conv3d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv3d(16, 5, 1))

        def forward(self, x):
            return self.m(x).mean(dim=(2, 3, 4))

    ops = check_against_torch(Head(), torch.randn(2, 3, 6, 9, 8), tmp_path)
    assert "ReduceMean" in ops, ops


class LN(nn.Module):
    """Linear -> LayerNorm -> Linear: the norm between computed tensors (a transformer's MLP block)."""

    def __init__(self, shape, affine=True):
        super().__init__()
        c = shape[-1]
        self.a, self.b = nn.Linear(c, c), nn.Linear(c, c)
        self.ln = nn.LayerNorm(shape, elementwise_affine=affine)
        if affine:
            with torch.no_grad():
                self.ln.weight.uniform_(0.5, 1.5)
                self.ln.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        return self.b(self.ln(self.a(x) * 2 + 1))


# Not (17, no affine): torch 1.13 writes LayerNormalization with an empty Scale there, and its own
# checker refuses the model.
@pytest.mark.parametrize("opset,shape,affine", [(13, (16,), True), (13, (4, 16), True), (13, (16,), False),
                                                (17, (16,), True), (17, (4, 16), True)])
def test_layer_norm_is_one_node(opset, shape, affine, tmp_path):
    torch.manual_seed(2)
    ops = check_against_torch(LN(shape, affine).eval(), torch.randn(2, 3, 4, 16), tmp_path, opset=opset, threads=2)
    assert ops.count("LayerNormalization") == 1, ops
    assert not {"ReduceMean", "Sqrt", "Pow", "Div"} & set(ops), ops
    # x * 2 + 1 of the block and the two Linears' biases (MatMul + Add on rank 4); the norm's own
    # Mul / Add are absorbed into its Scale / B
    assert ops.count("Mul") == 1 and ops.count("Add") == 3, ops


def test_layer_norm_pattern_with_a_second_reader_is_not_fused(tmp_path):
    class Twice(nn.Module):
        def forward(self, x):
            m = x.mean(-1, keepdim=True)
            d = x - m
            v = (d ** 2).mean(-1, keepdim=True)
            return d / torch.sqrt(v + 1e-5) + d  # x - mean read a third time

    torch.manual_seed(3)
    ops = check_against_torch(Twice(), torch.randn(2, 5, 12), tmp_path)
    assert "LayerNormalization" not in ops and ops.count("ReduceMean") == 2, ops


def test_layer_norm_over_non_trailing_axes_is_not_fused(tmp_path):
    class Middle(nn.Module):
        def forward(self, x):
            m = x.mean(1, keepdim=True)
            d = x - m
            return d / torch.sqrt((d ** 2).mean(1, keepdim=True) + 1e-5)

    ops = check_against_torch(Middle(), torch.randn(2, 5, 12), tmp_path)
    assert "LayerNormalization" not in ops, ops


# A middle axis at opset 13 only: at opset 11 torch writes it as Transpose-Softmax-Transpose (Transpose
# is another op's work); the 2-D coercion itself is test_opset11_softmax_coerced_to_2d.
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("opset,shape,dim", [(o, s, -1) for o in (11, 13) for s in ((2, 5, 9), (2, 3, 4, 9), (2, 3, 49, 49))]
                         + [(13, (2, 3, 4, 9), 1)])
def test_softmax_any_axis(opset, log, shape, dim, tmp_path):
    torch.manual_seed(4)
    f = torch.log_softmax if log else torch.softmax
    ops = check_against_torch(Fn(lambda x: f(x * 3, dim)), torch.randn(*shape), tmp_path, opset=opset)
    assert ("LogSoftmax" if log else "Softmax") in ops, ops


def test_opset11_softmax_coerced_to_2d(tmp_path):
    """An opset-11 Softmax with axis 1 on a rank-4 tensor normalises over axes 1..3 together (the
    ONNX 2-D coercion), which torch does not write itself: built by hand, checked against numpy."""
    import onnx
    from onnx import TensorProto, helper
    node = helper.make_node("Softmax", ["input"], ["output"], axis=1)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [2, 3, 4, 5])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [2, 3, 4, 5])])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)])
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 5)).astype(np.float32) * 3
    flat = x.reshape(2, -1).astype(np.float64)
    ref = (np.exp(flat - flat.max(1, keepdims=True)) / np.exp(flat - flat.max(1, keepdims=True)).sum(1, keepdims=True))
    out = tmp_path / "m.vxm"
    graph, _, _ = convert.convert_onnx(model.SerializeToString(), str(out))
    assert [n["op"] for n in graph["nodes"]] == ["Flatten", "Softmax", "Reshape"]
    import voxinfer
    with voxinfer.Model(str(out), threads=1) as m:
        y = m.run(x)
    assert y.shape == x.shape
    assert float(np.max(np.abs(y - ref.reshape(x.shape)))) <= 1e-6


def test_reduce_axes_computed_at_run_time_are_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper
    node = helper.make_node("ReduceSum", ["input", "axes"], ["output"])
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [2, 3]),
                                        helper.make_tensor_value_info("axes", TensorProto.INT64, [1])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(convert.ConvertError, match="ReduceSum node .*axes.* must be a constant"):
        convert.convert_onnx(model.SerializeToString(), str(tmp_path / "m.vxm"))


def _one_node_model(op, x_shape, opset, axes=None, **attrs):
    from onnx import TensorProto, helper, numpy_helper
    ins, inits = ["input"], []
    if axes is not None:
        ins.append("axes")
        inits.append(numpy_helper.from_array(np.array(axes, np.int64), "axes"))
    node = helper.make_node(op, ins, ["output"], **attrs)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(x_shape))],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)], initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]).SerializeToString()


@pytest.mark.parametrize("op,ref,axes,keep,noop", [
    ("ReduceMean", lambda x, a, k: x.mean(axis=a, keepdims=k), [1, -1], 1, 0),
    ("ReduceMax", lambda x, a, k: x.max(axis=a, keepdims=k), [2], 0, 0),
    ("ReduceL1", lambda x, a, k: np.abs(x).sum(axis=a, keepdims=k), [0, 2], 1, 0),
    ("ReduceSum", lambda x, a, k: x.sum(axis=a, keepdims=k), [], 1, 0),   # empty axes: all of them
    ("ReduceSum", lambda x, a, k: x, [], 1, 1),                           # noop_with_empty_axes
])
def test_opset18_axes_input_is_folded(op, ref, axes, keep, noop, tmp_path):
    """Opset 18 gives every Reduce* its axes as input 1 (torch 1.13 writes opset <= 17, so built by
    hand); checked against numpy in double."""
    import voxinfer
    x = np.random.default_rng(6).standard_normal((2, 3, 4, 5)).astype(np.float32)
    out = tmp_path / "m.vxm"
    graph, _, _ = convert.convert_onnx(_one_node_model(op, x.shape, 18, axes, keepdims=keep, noop_with_empty_axes=noop),
                                       str(out))
    assert [n["op"] for n in graph["nodes"]] == [op] and graph["nodes"][0]["inputs"] == ["input"]
    a = tuple(v % 4 for v in axes) if axes else (None if not noop else ())
    want = ref(x.astype(np.float64), a, bool(keep))
    if want.ndim == 0:
        want = want.reshape(1, 1, 1, 1) if keep else want
    with voxinfer.Model(str(out), threads=1) as m:
        y = m.run(x)
    assert y.shape == np.shape(want), (y.shape, np.shape(want))
    assert float(np.max(np.abs(y - want))) <= 1e-5 * max(1.0, float(np.max(np.abs(want))))


def test_reduction_of_constants_is_folded(tmp_path):
    """ReduceProd / ReduceSum over constants (shape arithmetic) are computed at conversion: the graph
    keeps only the Add of the folded value."""
    import voxinfer
    from onnx import TensorProto, helper, numpy_helper
    c = numpy_helper.from_array(np.array([[1.5, 2.0], [3.0, 0.5]], np.float32), "c")
    axes = numpy_helper.from_array(np.array([0], np.int64), "axes")
    nodes = [helper.make_node("ReduceProd", ["c"], ["p"], axes=[0], keepdims=0),
             helper.make_node("ReduceSum", ["p", "axes"], ["s"], keepdims=1),  # opset 13: axes as input
             helper.make_node("Add", ["input", "s"], ["output"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [2, 3])], initializer=[c, axes])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
    out = tmp_path / "m.vxm"
    graph, _, _ = convert.convert_onnx(model, str(out))
    assert [n["op"] for n in graph["nodes"]] == ["Add"]
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    with voxinfer.Model(str(out), threads=1) as m:
        y = m.run(x)
    assert np.array_equal(y, x + np.float32(1.5 * 3.0 + 2.0 * 0.5))
