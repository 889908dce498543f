#!/usr/bin/python3
"""Writes PyTorch reference data for tests/ops/ops_parity_test.cpp.

Usage: gen_ops_fixtures.py OUTDIR

Every case is one op of ours with its attributes (ONNX names), its inputs (graph inputs and
weights, in node-input order; null = omitted optional input) and the output PyTorch computes
(torch.nn.functional, float32, seeded). Layout of OUTDIR (read by tests/common/fixtures.h):
  manifest.json  {"version": 1, "cases": [{"name", "op", "attrs": {k: {"ints"|"floats"|"str": v}},
                  "inputs": [{"name", "shape", "file", "weight"} | null], "output": {"shape", "file"},
                  "tol": relative tolerance}]}
  *.bin          raw little-endian float32, C order.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

TOL = 1e-4  # max |ours - torch| <= TOL * max(1, max |torch|)


class Writer:
    def __init__(self, out):
        self.out = out
        self.cases = []
        os.makedirs(out, exist_ok=True)

    def _save(self, fname, t):
        np.ascontiguousarray(t.detach().numpy(), dtype="<f4").tofile(os.path.join(self.out, fname))

    def case(self, name, op, attrs, inputs, expected, tol=TOL):
        """inputs: list of (name, tensor, is_weight) or None; attrs: python values."""
        assert name not in {c["name"] for c in self.cases}, name
        enc = {}
        for k, v in attrs.items():
            if isinstance(v, str):
                enc[k] = {"str": v}
            elif isinstance(v, (list, tuple)) and v and all(isinstance(e, float) for e in v):
                enc[k] = {"floats": list(v)}
            elif isinstance(v, float):
                enc[k] = {"floats": [v]}
            elif isinstance(v, (list, tuple)):
                enc[k] = {"ints": [int(e) for e in v]}
            else:
                enc[k] = {"ints": [int(v)]}
        ins = []
        for i, item in enumerate(inputs):
            if item is None:
                ins.append(None)
                continue
            iname, t, weight = item
            fname = f"{name}.in{i}.bin"
            self._save(fname, t)
            ins.append({"name": iname, "shape": list(t.shape), "file": fname, "weight": bool(weight)})
        fname = f"{name}.out.bin"
        self._save(fname, expected)
        self.cases.append({"name": name, "op": op, "attrs": enc, "inputs": ins,
                           "output": {"shape": list(expected.shape), "file": fname}, "tol": tol})

    def finish(self):
        with open(os.path.join(self.out, "manifest.json"), "w") as f:
            json.dump({"version": 1, "cases": self.cases}, f, indent=1)


def r(*shape):
    return torch.randn(*shape, dtype=torch.float32)


def ties(*shape):  # many equal values: reductions' tie rules
    return torch.round(torch.randn(*shape) * 1.5) / 2


def onnx_pads(p, nd):
    return [p] * (2 * nd) if isinstance(p, int) else list(p)


def gen(w):
    # --- Conv (existing op; a few awkward cases so a fast conv cannot regress unnoticed)
    for nd, x, wt, s, p, d, g in [
        (2, (2, 6, 11, 9), (10, 3, 3, 3), 2, 1, 1, 2),
        (3, (1, 5, 7, 9, 6), (7, 5, 3, 3, 3), 1, 2, 2, 1),
        (3, (1, 4, 8, 7, 9), (6, 2, 3, 1, 3), 2, 1, 1, 2),
    ]:
        X, W, B = r(*x), r(*wt), r(wt[0])
        conv = F.conv2d if nd == 2 else F.conv3d
        y = conv(X, W, B, stride=s, padding=p, dilation=d, groups=g)
        w.case(f"conv{nd}d_s{s}_p{p}_d{d}_g{g}", "Conv",
               {"strides": [s] * nd, "pads": [p] * 2 * nd, "dilations": [d] * nd, "group": g},
               [("x", X, False), ("w", W, True), ("b", B, True)], y)

    # --- ConvTranspose: stride 2, padding, output_padding, groups, dilation, with/without bias
    for nd, x, wt, s, p, op, d, g, bias in [
        (2, (1, 6, 7, 9), (6, 5, 3, 3), 2, 1, 1, 1, 1, True),
        (2, (2, 4, 5, 6), (4, 3, 4, 3), 2, 0, 0, 1, 2, False),
        (2, (1, 3, 6, 5), (3, 2, 3, 3), 1, 2, 0, 2, 1, True),
        (3, (1, 8, 5, 6, 7), (8, 4, 2, 2, 2), 2, 0, 0, 1, 1, True),
        (3, (1, 6, 4, 5, 3), (6, 3, 3, 3, 3), 2, 1, 1, 1, 3, True),
        (3, (1, 4, 3, 4, 5), (4, 5, 3, 2, 3), 3, 1, 2, 2, 1, False),
    ]:
        X, W = r(*x), r(*wt)
        B = r(wt[1] * g) if bias else None
        convt = F.conv_transpose2d if nd == 2 else F.conv_transpose3d
        y = convt(X, W, B, stride=s, padding=p, output_padding=op, groups=g, dilation=d)
        ins = [("x", X, False), ("w", W, True)] + ([("b", B, True)] if bias else [])
        w.case(f"convtranspose{nd}d_s{s}_p{p}_op{op}_d{d}_g{g}{'_bias' if bias else ''}", "ConvTranspose",
               {"strides": [s] * nd, "pads": [p] * 2 * nd, "output_padding": [op] * nd,
                "dilations": [d] * nd, "group": g}, ins, y)

    # --- BatchNormalization: BatchNorm1d on [N,C] and [N,C,L], 2-D and 3-D
    for shape, eps in [((5, 7), 1e-5), ((3, 6, 11), 1e-3), ((2, 5, 9, 7), 1e-5), ((1, 13, 5, 6, 7), 2e-5)]:
        c = shape[1]
        X = r(*shape)
        g, b, m, v = r(c), r(c), r(c), torch.rand(c) + 0.1
        y = F.batch_norm(X, m, v, g, b, training=False, eps=eps)
        w.case(f"batchnorm_rank{len(shape)}", "BatchNormalization", {"epsilon": float(eps)},
               [("x", X, False), ("scale", g, True), ("bias", b, True), ("mean", m, True), ("var", v, True)], y)

    # --- Softmax
    for shape, axis in [((2, 5, 7, 6), 1), ((1, 3, 4, 5, 6), 1), ((2, 3, 4, 5, 3), -1), ((3, 7), 0), ((4, 9), -1)]:
        X = r(*shape) * 3
        w.case(f"softmax_rank{len(shape)}_axis{axis}", "Softmax", {"axis": axis}, [("x", X, False)],
               F.softmax(X, dim=axis))

    # --- MaxPool: stride 2, padding, dilation, ceil_mode on odd extents
    for nd, x, k, s, p, d, ceil in [
        (2, (1, 3, 11, 9), 3, 2, 1, 1, True),
        (2, (2, 5, 7, 10), 2, 2, 0, 1, True),
        (2, (1, 4, 12, 13), 3, 2, 1, 2, False),
        (3, (1, 3, 9, 8, 7), 2, 2, 0, 1, False),
        (3, (1, 5, 7, 9, 11), 3, 2, 1, 1, True),
        (3, (1, 2, 10, 9, 11), 3, 2, 1, 2, True),
    ]:
        X = r(*x)
        mp = F.max_pool2d if nd == 2 else F.max_pool3d
        y = mp(X, k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
        w.case(f"maxpool{nd}d_k{k}_s{s}_p{p}_d{d}_ceil{int(ceil)}", "MaxPool",
               {"kernel_shape": [k] * nd, "strides": [s] * nd, "pads": [p] * 2 * nd, "dilations": [d] * nd,
                "ceil_mode": int(ceil)}, [("x", X, False)], y)

    # --- AveragePool: count_include_pad both ways, ceil_mode
    for nd, x, k, s, p, ceil, cip in [
        (2, (1, 3, 11, 9), 3, 2, 1, True, True),
        (2, (1, 3, 11, 9), 3, 2, 1, True, False),
        (2, (2, 4, 8, 7), 2, 2, 0, False, False),
        (3, (1, 3, 9, 7, 8), 3, 2, 1, True, False),
        (3, (1, 3, 9, 7, 8), 3, 2, 1, False, True),
        (3, (1, 5, 6, 7, 5), 2, 2, 1, True, True),
    ]:
        X = r(*x)
        ap = F.avg_pool2d if nd == 2 else F.avg_pool3d
        y = ap(X, k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=cip)
        w.case(f"avgpool{nd}d_k{k}_s{s}_p{p}_ceil{int(ceil)}_cip{int(cip)}", "AveragePool",
               {"kernel_shape": [k] * nd, "strides": [s] * nd, "pads": [p] * 2 * nd, "ceil_mode": int(ceil),
                "count_include_pad": int(cip)}, [("x", X, False)], y)

    # --- Global and adaptive pooling (output sizes that do not divide, and one larger than the input)
    for x in [(2, 5, 7, 9), (1, 6, 5, 7, 3)]:
        X = r(*x)
        nd = len(x) - 2
        dims = tuple(range(2, 2 + nd))
        w.case(f"globalavgpool{nd}d", "GlobalAveragePool", {}, [("x", X, False)], X.mean(dim=dims, keepdim=True))
        w.case(f"globalmaxpool{nd}d", "GlobalMaxPool", {}, [("x", X, False)], X.amax(dim=dims, keepdim=True))
    for x, out in [((1, 3, 7, 9), (3, 4)), ((2, 4, 10, 5), (4, 7)), ((1, 3, 5, 7, 6), (2, 3, 4)),
                   ((1, 2, 9, 4, 11), (4, 3, 5))]:
        X = r(*x)
        nd = len(x) - 2
        aap = F.adaptive_avg_pool2d if nd == 2 else F.adaptive_avg_pool3d
        amp = F.adaptive_max_pool2d if nd == 2 else F.adaptive_max_pool3d
        tag = "x".join(map(str, out))
        w.case(f"adaptiveavgpool{nd}d_{tag}", "AdaptiveAveragePool", {"output_size": list(out)},
               [("x", X, False)], aap(X, out))
        w.case(f"adaptivemaxpool{nd}d_{tag}", "AdaptiveMaxPool", {"output_size": list(out)},
               [("x", X, False)], amp(X, out))

    # --- Concat: any axis, negative axis, several inputs
    for shapes, axis in [([(1, 3, 5, 6, 7), (1, 5, 5, 6, 7), (1, 1, 5, 6, 7)], 1),
                         ([(2, 3, 4, 5), (2, 3, 4, 2)], -1),
                         ([(1, 2, 3, 4), (3, 2, 3, 4)], 0),
                         ([(1, 2, 3, 4, 5), (1, 2, 6, 4, 5), (1, 2, 1, 4, 5)], 2),
                         ([(2, 4, 3, 5)], 1)]:
        Xs = [r(*s) for s in shapes]
        w.case(f"concat_rank{len(shapes[0])}_axis{axis}_n{len(shapes)}", "Concat", {"axis": axis},
               [(f"x{i}", t, False) for i, t in enumerate(Xs)], torch.cat(Xs, dim=axis))

    # --- Resize: nearest / linear, align_corners, integer and non-integer scales, sizes, "like" input
    for x, mode, ac, kind, val in [
        ((1, 3, 5, 7), "nearest", 0, "scales", (2.0, 2.0)),
        ((1, 2, 5, 7), "nearest", 0, "scales", (1.5, 2.3)),
        ((1, 2, 6, 7), "nearest", 0, "sizes", (9, 5)),
        ((1, 3, 5, 7), "linear", 0, "scales", (2.0, 2.0)),
        ((1, 3, 5, 7), "linear", 1, "scales", (2.0, 2.0)),
        ((2, 2, 6, 5), "linear", 0, "scales", (1.7, 0.6)),
        ((1, 2, 6, 5), "linear", 1, "sizes", (11, 4)),
        ((1, 2, 4, 5, 3), "nearest", 0, "scales", (2.0, 2.0, 2.0)),
        ((1, 2, 4, 5, 6), "nearest", 0, "scales", (1.5, 2.5, 0.7)),
        ((1, 3, 4, 5, 3), "linear", 0, "scales", (2.0, 2.0, 2.0)),
        ((1, 3, 4, 5, 3), "linear", 1, "scales", (2.0, 2.0, 2.0)),
        ((1, 2, 5, 4, 6), "linear", 0, "scales", (1.3, 2.6, 0.8)),
        ((1, 2, 5, 4, 6), "linear", 1, "sizes", (7, 9, 4)),
        ((1, 2, 4, 3, 5), "nearest", 0, "like", (9, 7, 10)),
        ((1, 2, 4, 3, 5), "linear", 0, "like", (9, 7, 10)),
        ((1, 2, 5, 6), "linear", 1, "like", (11, 13)),
    ]:
        X = r(*x)
        nd = len(x) - 2
        tmode = mode if mode == "nearest" else ("bilinear" if nd == 2 else "trilinear")
        kw = {} if mode == "nearest" else {"align_corners": bool(ac)}
        attrs = {"mode": mode, "align_corners": ac}
        ins = [("x", X, False)]
        if kind == "scales":
            y = F.interpolate(X, scale_factor=val, mode=tmode, **kw)
            attrs["scales"] = [float(v) for v in val]
        else:
            y = F.interpolate(X, size=val, mode=tmode, **kw)
            if kind == "sizes":
                attrs["sizes"] = list(val)
            else:
                ins.append(("like", r(x[0], 1, *val), False))
        tag = "x".join(str(v) for v in val)
        w.case(f"resize{nd}d_{mode}_ac{ac}_{kind}_{tag}", "Resize", attrs, ins, y)

    # --- Gemm / MatMul
    A, B, C = r(5, 13), r(7, 13), r(7)
    w.case("gemm_transb_bias", "Gemm", {"transB": 1}, [("a", A, False), ("b", B, True), ("c", C, True)],
           F.linear(A, B, C))
    A, B, C = r(3, 11), r(11, 6), r(1, 6)
    w.case("gemm_alpha_beta", "Gemm", {"transB": 0, "alpha": 0.5, "beta": 2.0},
           [("a", A, False), ("b", B, True), ("c", C, True)], torch.addmm(C, A, B, beta=2.0, alpha=0.5))
    A, B = r(4, 9), r(10, 9)
    w.case("gemm_nobias", "Gemm", {"transB": 1}, [("a", A, False), ("b", B, True)], A @ B.T)
    A, B = r(6, 5), r(5, 8)
    w.case("matmul_2d", "MatMul", {}, [("a", A, False), ("b", B, True)], A @ B)
    # batched MatMul (matops): broadcasting over leading dims, activation right operands, 1-D operands
    A, B = r(2, 3, 6, 5), r(5, 8)
    w.case("matmul_batched_weight", "MatMul", {}, [("a", A, False), ("b", B, True)], A @ B)
    A, B = r(2, 4, 7, 6), r(2, 4, 6, 3)
    w.case("matmul_batched_act", "MatMul", {}, [("a", A, False), ("b", B, False)], A @ B)
    A, B = r(2, 1, 5, 4), r(3, 4, 6)
    w.case("matmul_broadcast", "MatMul", {}, [("a", A, False), ("b", B, False)], A @ B)
    A, B = r(3, 5, 4), r(4)
    w.case("matmul_1d_b", "MatMul", {}, [("a", A, False), ("b", B, True)], A @ B)
    A, B = r(4), r(2, 4, 3)
    w.case("matmul_1d_a", "MatMul", {}, [("a", A, False), ("b", B, False)], A @ B)

    # --- Views
    X = r(2, 3, 4, 5, 3)
    w.case("flatten_axis1", "Flatten", {"axis": 1}, [("x", X, False)], torch.flatten(X, 1))
    w.case("flatten_axis3", "Flatten", {"axis": 3}, [("x", X, False)], X.reshape(2 * 3 * 4, 5 * 3))
    w.case("flatten_axis_neg1", "Flatten", {"axis": -1}, [("x", X, False)], X.reshape(2 * 3 * 4 * 5, 3))
    w.case("dropout", "Dropout", {}, [("x", X, False)], F.dropout(X, 0.5, training=False))
    w.case("identity", "Identity", {}, [("x", X, False)], X.clone())
    w.case("reshape_zero_minus1", "Reshape", {"shape": [0, -1, 5]}, [("x", X, False)], X.reshape(2, -1, 5))
    w.case("reshape_flat", "Reshape", {"shape": [-1]}, [("x", X, False)], X.reshape(-1))

    # --- ONNX-only asymmetric pads (PyTorch pads symmetrically): built from F.pad + an unpadded op
    X, W = r(1, 3, 9, 8), r(4, 3, 3, 3)
    pads = [0, 2, 1, 0]  # begins (H, W), ends (H, W)
    w.case("conv2d_asymmetric_pads", "Conv", {"strides": [2, 2], "pads": pads},
           [("x", X, False), ("w", W, True)], F.conv2d(F.pad(X, [2, 0, 0, 1]), W, stride=2))
    X = r(1, 2, 7, 9)
    w.case("maxpool2d_asymmetric_pads", "MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 0, 0, 2]},
           [("x", X, False)], F.max_pool2d(F.pad(X, [0, 2, 1, 0], value=-float("inf")), 3, stride=2))
    ones = torch.ones_like(X)
    pd = [0, 2, 1, 0]
    num = F.avg_pool2d(F.pad(X, pd), 3, stride=2, count_include_pad=True)
    den = F.avg_pool2d(F.pad(ones, pd), 3, stride=2, count_include_pad=True)
    w.case("avgpool2d_asymmetric_pads_cip0", "AveragePool",
           {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 0, 0, 2], "count_include_pad": 0},
           [("x", X, False)], num / den)
    X, W, B = r(1, 4, 3, 4, 5), r(4, 3, 3, 3, 3), r(3)
    full = F.conv_transpose3d(X, W, B, stride=2)  # ONNX pads crop the full output
    pb, pe = [1, 0, 2], [0, 2, 1]
    y = full[:, :, pb[0]:full.shape[2] - pe[0], pb[1]:full.shape[3] - pe[1], pb[2]:full.shape[4] - pe[2]]
    w.case("convtranspose3d_asymmetric_pads", "ConvTranspose", {"strides": [2, 2, 2], "pads": pb + pe},
           [("x", X, False), ("w", W, True), ("b", B, True)], y)

    # --- Pad (ONNX pads: all begins then all ends; F.pad: last axis first) and Slice
    def tpad(p, nd):  # ONNX spatial begins/ends -> F.pad order
        b, e = p[:nd], p[nd:]
        out = []
        for i in reversed(range(nd)):
            out += [b[i], e[i]]
        return out

    for x, mode, p, val in [
        ((1, 3, 5, 6), "constant", (1, 2, 3, 0), 0.5),
        ((2, 2, 5, 6), "reflect", (2, 1, 1, 3), 0.0),
        ((1, 3, 5, 6), "edge", (3, 0, 2, 4), 0.0),
        ((1, 3, 7, 8), "constant", (-1, 2, -2, -3), 0.0),
        ((1, 2, 4, 5, 6), "constant", (1, 0, 2, 1, 2, 0), -1.5),
        ((1, 2, 4, 5, 6), "reflect", (1, 2, 3, 2, 1, 0), 0.0),
        ((1, 2, 4, 5, 6), "edge", (2, 0, 1, 0, 3, 2), 0.0),
        ((1, 2, 6, 5, 7), "constant", (-1, -2, 0, -2, 1, -3), 0.0),
    ]:
        X = r(*x)
        nd = len(x) - 2
        tmode = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}[mode]
        y = F.pad(X, tpad(list(p), nd), mode=tmode, value=val) if mode == "constant" else \
            F.pad(X, tpad(list(p), nd), mode=tmode)
        tag = "_".join(str(v).replace("-", "m") for v in p)
        w.case(f"pad{nd}d_{mode}_{tag}", "Pad", {"pads": [0, 0] + list(p[:nd]) + [0, 0] + list(p[nd:]),
                                                  "mode": mode, "value": float(val)}, [("x", X, False)], y)

    X = r(1, 4, 7, 8, 9)
    w.case("slice3d_crop", "Slice", {"starts": [1, 2, 1], "ends": [6, 7, 8], "axes": [2, 3, 4]},
           [("x", X, False)], X[:, :, 1:6, 2:7, 1:8])
    w.case("slice3d_negative_clamped", "Slice", {"starts": [-5, 0, -100], "ends": [-1, 100, -2], "axes": [-3, 3, 4]},
           [("x", X, False)], X[:, :, -5:-1, 0:, :-2])
    X = r(2, 6, 5, 7)
    w.case("slice2d_channels_steps", "Slice", {"starts": [1, 2], "ends": [4, 1000], "axes": [1, 3],
                                               "steps": [1, 1]}, [("x", X, False)], X[:, 1:4, :, 2:])

    # --- Elementwise, broadcasting as attention gates use it
    X = r(1, 4, 5, 6, 7)
    w.case("relu", "Relu", {}, [("x", X, False)], F.relu(X))
    w.case("leakyrelu_0.2", "LeakyRelu", {"alpha": 0.2}, [("x", X, False)], F.leaky_relu(X, 0.2))
    w.case("leakyrelu_default", "LeakyRelu", {}, [("x", X, False)], F.leaky_relu(X, 0.01))
    w.case("sigmoid", "Sigmoid", {}, [("x", X * 4, False)], torch.sigmoid(X * 4))
    w.case("tanh", "Tanh", {}, [("x", X * 2, False)], torch.tanh(X * 2))
    # Activations and math of issue 18 (lib/ops/activation.cpp), over wide ranges
    A = X * 6
    P = torch.rand(1, 4, 5, 6, 7) * 8 + 1e-3  # positive, for Log / Sqrt / general Pow
    w.case("elu_default", "Elu", {}, [("x", A, False)], F.elu(A))
    w.case("elu_0.5", "Elu", {"alpha": 0.5}, [("x", A, False)], F.elu(A, 0.5))
    w.case("selu", "Selu", {}, [("x", A, False)], F.selu(A))
    w.case("selu_attrs", "Selu", {"alpha": 1.5, "gamma": 2.0}, [("x", A, False)],
           2.0 * torch.where(A > 0, A, 1.5 * torch.expm1(A)))
    w.case("hardsigmoid_default", "HardSigmoid", {}, [("x", A, False)], torch.clamp(0.2 * A + 0.5, 0, 1))
    w.case("hardsigmoid_torch", "HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}, [("x", A, False)], F.hardsigmoid(A))
    w.case("hardswish", "HardSwish", {}, [("x", A, False)], F.hardswish(A))
    w.case("softplus", "Softplus", {}, [("x", A * 5, False)], F.softplus(A * 5))
    w.case("erf", "Erf", {}, [("x", A, False)], torch.erf(A))
    w.case("gelu", "Gelu", {}, [("x", A, False)], F.gelu(A))
    w.case("clip_both", "Clip", {"min": -1.5, "max": 2.0}, [("x", A, False)], torch.clamp(A, -1.5, 2.0))
    w.case("clip_relu6", "Clip", {"min": 0.0, "max": 6.0}, [("x", A * 2, False)], F.relu6(A * 2))
    w.case("clip_min_only", "Clip", {"min": -0.5}, [("x", A, False)], torch.clamp(A, min=-0.5))
    w.case("clip_max_only", "Clip", {"max": 0.25}, [("x", A, False)], torch.clamp(A, max=0.25))
    w.case("exp", "Exp", {}, [("x", A, False)], torch.exp(A))
    w.case("log", "Log", {}, [("x", P, False)], torch.log(P))
    w.case("sqrt", "Sqrt", {}, [("x", P, False)], torch.sqrt(P))
    w.case("neg", "Neg", {}, [("x", A, False)], -A)
    w.case("abs", "Abs", {}, [("x", A, False)], torch.abs(A))
    w.case("pow_2", "Pow", {"exponent": 2.0}, [("x", A, False)], torch.pow(A, 2.0))
    w.case("pow_0.5", "Pow", {"exponent": 0.5}, [("x", P, False)], torch.pow(P, 0.5))
    w.case("pow_3", "Pow", {"exponent": 3.0}, [("x", A, False)], torch.pow(A, 3.0))
    w.case("pow_1.7", "Pow", {"exponent": 1.7}, [("x", P, False)], torch.pow(P, 1.7))
    G = r(1, 1, 5, 6, 7)
    w.case("mul_attention_gate", "Mul", {}, [("x", X, False), ("g", torch.sigmoid(G), False)], X * torch.sigmoid(G))
    w.case("add_same", "Add", {}, [("a", X, False), ("b", X.flip(2), False)], X + X.flip(2))
    Bc = r(4, 1, 1, 1)
    w.case("add_channel_bias", "Add", {}, [("x", X, False), ("b", Bc, True)], X + Bc)
    Y = r(2, 3, 5, 6)
    Z = r(2, 1, 5, 1)
    w.case("sub_broadcast2d", "Sub", {}, [("a", Y, False), ("b", Z, False)], Y - Z)
    D = torch.rand(3, 1, 6) + 0.5
    w.case("div_broadcast", "Div", {}, [("a", Y, False), ("b", D, True)], Y / D)
    w.case("mul_scalar_first", "Mul", {}, [("s", torch.tensor([1.5]), True), ("a", Y, False)], 1.5 * Y)

    # --- issue 18 (norms): InstanceNormalization, GroupNormalization, PRelu, and the norms with
    # the activation the fuser folds into them (attributes activation/alpha, PRelu slope as input 3).
    for shape, eps in [((2, 3, 17), 1e-5), ((2, 5, 9, 7), 1e-3), ((1, 16, 5, 6, 7), 1e-5)]:
        c = shape[1]
        X = r(*shape) * 2 + 3
        g, b = r(c), r(c)
        y = F.instance_norm(X, weight=g, bias=b, eps=eps)
        w.case(f"instancenorm_rank{len(shape)}", "InstanceNormalization", {"epsilon": float(eps)},
               [("x", X, False), ("scale", g, True), ("bias", b, True)], y)
    X = r(2, 32, 6, 5, 4)
    g, b, a = r(32), r(32), torch.rand(32) * 0.5
    y = F.instance_norm(X, weight=g, bias=b, eps=1e-5)
    w.case("instancenorm_leakyrelu", "InstanceNormalization", {"epsilon": 1e-5, "activation": "leaky_relu", "alpha": 0.01},
           [("x", X, False), ("scale", g, True), ("bias", b, True)], F.leaky_relu(y, 0.01))
    w.case("instancenorm_relu", "InstanceNormalization", {"activation": "relu"},
           [("x", X, False), ("scale", g, True), ("bias", b, True)], F.relu(y))
    w.case("instancenorm_prelu", "InstanceNormalization", {"activation": "prelu"},
           [("x", X, False), ("scale", g, True), ("bias", b, True), ("slope", a.reshape(32, 1, 1, 1), True)],
           F.prelu(y, a))  # the slope as ONNX broadcasts it (torch exports [C, 1, 1, 1])
    for shape, groups in [((2, 6, 7, 5), 3), ((1, 32, 4, 5, 6), 8), ((2, 4, 9), 1), ((1, 8, 3, 3, 3), 8)]:
        c = shape[1]
        X = r(*shape) + 1
        g, b = r(c), r(c)
        y = F.group_norm(X, groups, weight=g, bias=b, eps=1e-5)
        w.case(f"groupnorm_c{shape[1]}_rank{len(shape)}_g{groups}", "GroupNormalization", {"num_groups": groups, "epsilon": 1e-5},
               [("x", X, False), ("scale", g, True), ("bias", b, True)], y)
    X = r(2, 32, 4, 5, 6)
    g, b, a1 = r(32), r(32), torch.tensor([0.25])
    y = F.group_norm(X, 4, weight=g, bias=b, eps=1e-5)
    w.case("groupnorm_prelu_scalar", "GroupNormalization", {"num_groups": 4, "activation": "prelu"},
           [("x", X, False), ("scale", g, True), ("bias", b, True), ("slope", a1, True)], F.prelu(y, a1))
    # Opset 18's per-group scale and bias: group k's channels share value k.
    gg, bg = r(4), r(4)
    y = F.group_norm(X, 4, weight=gg.repeat_interleave(8), bias=bg.repeat_interleave(8), eps=1e-5)
    w.case("groupnorm_per_group_scale", "GroupNormalization", {"num_groups": 4},
           [("x", X, False), ("scale", gg, True), ("bias", bg, True)], y)
    X = r(2, 5, 6, 7)
    a = torch.rand(5) - 0.5
    w.case("prelu_per_channel", "PRelu", {}, [("x", X, False), ("slope", a.reshape(5, 1, 1), True)], F.prelu(X, a))
    w.case("prelu_scalar", "PRelu", {}, [("x", X, False), ("slope", torch.tensor([0.3]), True)],
           F.prelu(X, torch.tensor([0.3])))
    X3 = r(1, 4, 3, 4, 5)
    a3 = torch.rand(4)
    w.case("prelu_per_channel_3d", "PRelu", {}, [("x", X3, False), ("slope", a3.reshape(4, 1, 1, 1), True)],
           F.prelu(X3, a3))

    # --- reductions and layer norm (issue 18): Reduce* over any axes, keepdims 0/1, all axes,
    # noop_with_empty_axes; LayerNormalization over one or more trailing axes; LogSoftmax.
    X = r(2, 8, 5, 6, 7) + 2
    w.case("reducemean_spatial", "ReduceMean", {"axes": [2, 3, 4], "keepdims": 1}, [("x", X, False)],
           X.mean(dim=(2, 3, 4), keepdim=True))
    w.case("reducemean_last_nokeep", "ReduceMean", {"axes": [-1], "keepdims": 0}, [("x", X, False)], X.mean(dim=-1))
    w.case("reducemean_batch", "ReduceMean", {"axes": [0]}, [("x", X, False)], X.mean(dim=0, keepdim=True))
    w.case("reducemean_all", "ReduceMean", {}, [("x", X, False)], X.mean().reshape(1, 1, 1, 1, 1))
    w.case("reducesum_channels_nokeep", "ReduceSum", {"axes": [1], "keepdims": 0}, [("x", X, False)], X.sum(dim=1))
    w.case("reducesum_split_axes", "ReduceSum", {"axes": [-1, 1]}, [("x", X, False)], X.sum(dim=(1, 4), keepdim=True))
    w.case("reducesum_noop_empty_axes", "ReduceSum", {"noop_with_empty_axes": 1}, [("x", X, False)], X.clone())
    T = ties(2, 8, 5, 6, 7)
    w.case("reducemax_spatial_ties", "ReduceMax", {"axes": [2, 3, 4]}, [("x", T, False)], T.amax(dim=(2, 3, 4), keepdim=True))
    w.case("reducemax_channels_nokeep", "ReduceMax", {"axes": [1], "keepdims": 0}, [("x", X, False)], X.amax(dim=1))
    w.case("reducemin_middle", "ReduceMin", {"axes": [2, 3]}, [("x", X, False)], X.amin(dim=(2, 3), keepdim=True))
    Pq = torch.rand(2, 3, 4, 5) + 0.5
    w.case("reduceprod_last", "ReduceProd", {"axes": [-1]}, [("x", Pq, False)], Pq.prod(dim=-1, keepdim=True))
    w.case("reducel1_spatial", "ReduceL1", {"axes": [2, 3]}, [("x", Pq - 1, False)], (Pq - 1).abs().sum(dim=(2, 3), keepdim=True))
    w.case("reducel2_channels", "ReduceL2", {"axes": [1]}, [("x", X, False)], torch.linalg.vector_norm(X, dim=1, keepdim=True))
    w.case("reducesumsquare_last", "ReduceSumSquare", {"axes": [-1], "keepdims": 0}, [("x", X, False)], (X * X).sum(dim=-1))
    w.case("reducelogsum_spatial", "ReduceLogSum", {"axes": [2, 3]}, [("x", Pq, False)], Pq.sum(dim=(2, 3), keepdim=True).log())
    w.case("reducelogsumexp_channels", "ReduceLogSumExp", {"axes": [1]}, [("x", X * 10, False)],
           torch.logsumexp(X * 10, dim=1, keepdim=True))
    X = r(2, 7, 48) * 2 + 3
    g, b = r(48), r(48)
    w.case("layernorm_last_axis", "LayerNormalization", {"axis": -1, "epsilon": 1e-5},
           [("x", X, False), ("scale", g, True), ("bias", b, True)], F.layer_norm(X, (48,), g, b, 1e-5))
    X = r(2, 3, 4, 8) + 1
    g2, b2 = r(4, 8), r(4, 8)
    w.case("layernorm_two_axes", "LayerNormalization", {"axis": 2, "epsilon": 1e-6},
           [("x", X, False), ("scale", g2, True), ("bias", b2, True)], F.layer_norm(X, (4, 8), g2, b2, 1e-6))
    w.case("layernorm_scale_only", "LayerNormalization", {"axis": -1},
           [("x", X, False), ("scale", g2[0], True)], F.layer_norm(X, (8,), g2[0], None, 1e-5))
    w.case("layernorm_axis1_rank4", "LayerNormalization", {"axis": 1},
           [("x", X, False), ("scale", torch.ones(3, 4, 8), True)], F.layer_norm(X, (3, 4, 8), None, None, 1e-5))
    X = r(2, 5, 6, 9) * 4
    w.case("logsoftmax_last_axis", "LogSoftmax", {"axis": -1}, [("x", X, False)], F.log_softmax(X, dim=-1))
    w.case("logsoftmax_axis1", "LogSoftmax", {"axis": 1}, [("x", X, False)], F.log_softmax(X, dim=1))
    # --- view ops (issue 18): Transpose, Expand, Tile, Where (constant condition), Cast (float).
    # Split has several outputs: tests/ops/test_convert_views.py checks it.
    X = r(2, 3, 4, 5)
    w.case("transpose_default", "Transpose", {}, [("x", X, False)], X.permute(3, 2, 1, 0))
    w.case("transpose_last_two", "Transpose", {"perm": [0, 1, 3, 2]}, [("x", X, False)], X.transpose(2, 3))
    X5 = r(2, 3, 4, 5, 6)
    w.case("transpose5d_heads", "Transpose", {"perm": [0, 3, 1, 4, 2]}, [("x", X5, False)], X5.permute(0, 3, 1, 4, 2))
    M = r(37, 70)
    w.case("transpose2d_tiles", "Transpose", {"perm": [1, 0]}, [("x", M, False)], M.t())
    w.case("transpose_identity", "Transpose", {"perm": [0, 1, 2, 3]}, [("x", X, False)], X.clone())
    C = r(1, 1, 4, 1, 6)
    w.case("expand_channels", "Expand", {"shape": [2, 16, 4, 3, 6]}, [("x", C, False)], C.expand(2, 16, 4, 3, 6))
    V = r(3, 1)
    w.case("expand_rank_up", "Expand", {"shape": [2, 1, 3, 4]}, [("x", V, False)], V.expand(2, 1, 3, 4))
    w.case("expand_ones_keep", "Expand", {"shape": [1, 1]}, [("x", X, False)], X.clone())  # bidirectional: keeps x
    w.case("tile_vnet", "Tile", {"repeats": [1, 16, 1, 1, 1]}, [("x", C, False)], C.repeat(1, 16, 1, 1, 1))
    w.case("tile_all_axes", "Tile", {"repeats": [2, 1, 3, 2]}, [("x", X, False)], X.repeat(2, 1, 3, 2))
    mask = (torch.rand(1, 3, 4, 5) > 0.5).float()
    Yb = r(1, 1, 4, 5)
    w.case("where_const_mask", "Where", {}, [("c", mask, True), ("x", X, False), ("other", Yb, False)],
           torch.where(mask.bool(), X, Yb))
    w.case("where_const_fill", "Where", {}, [("c", mask, True), ("fill", torch.tensor([-100.0]), True), ("x", X, False)],
           torch.where(mask.bool(), torch.tensor(-100.0), X))
    w.case("cast_float", "Cast", {"to": 1}, [("x", X, False)], X.clone())


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_ops_fixtures.py OUTDIR")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    w = Writer(sys.argv[1])
    gen(w)
    w.finish()
    print(f"wrote {len(w.cases)} cases to {sys.argv[1]}")


if __name__ == "__main__":
    main()
