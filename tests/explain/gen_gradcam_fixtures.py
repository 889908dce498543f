#!/usr/bin/env python3
"""PyTorch references for Grad-CAM and the backward kernels.

Usage: gen_gradcam_fixtures.py OUTDIR

Writes OUTDIR/<case>/case.json + raw little-endian float32 .bin files. Each case holds a
graph (nodes with ONNX-style attributes as lib/ops implements them, weights as .bin) that is
built here by hand to compute exactly what the PyTorch module computes (the model branch's
converter had not landed), plus the PyTorch results:
  - op_*    : one-node graphs; input x, output gradient dy, and autograd's dx.
  - cam_*   : small networks with random weights and non-trivial BN statistics; Grad-CAM
              (published recipe: hooks, raw logit, mean gradient, resize align_corners=True,
              clamp at 0, min-max normalisation) and Grad-CAM++ (pytorch-grad-cam weights).
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_num_threads(1)
OUT = sys.argv[1]


class Case:
    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(OUT, name)
        os.makedirs(self.dir, exist_ok=True)
        self.nodes, self.weights, self.tensors = [], {}, {}
        self.inputs, self.outputs, self.extra = [], [], {}
        self.n = 0

    def _save(self, key, t):
        t = t.detach().float().contiguous()
        f = key.replace("/", "_") + ".bin"
        t.numpy().tofile(os.path.join(self.dir, f))
        return {"shape": list(t.shape), "file": f}

    def tensor(self, key, t):
        self.tensors[key] = self._save(key, t)

    def weight(self, key, t):
        if key not in self.weights:
            self.weights[key] = self._save("w_" + key, t)
        return key

    def node(self, op, inputs, attrs=None, name=None, nout=1):
        self.n += 1
        name = name or f"{op.lower()}_{self.n}"
        outs = [name + (f":{i}" if i else "") for i in range(nout)]
        enc = {}
        for k, v in (attrs or {}).items():
            if isinstance(v, str):
                enc[k] = {"str": v}
            elif isinstance(v, (list, tuple)) and v and isinstance(v[0], float) or isinstance(v, float):
                enc[k] = {"floats": list(v) if isinstance(v, (list, tuple)) else [v]}
            else:
                enc[k] = {"ints": list(v) if isinstance(v, (list, tuple)) else [int(v)]}
        self.nodes.append({"name": name, "op": op, "inputs": inputs, "outputs": outs, "attrs": enc})
        return outs[0]

    def write(self):
        g = {"inputs": self.inputs, "outputs": self.outputs, "nodes": self.nodes, "weights": self.weights}
        with open(os.path.join(self.dir, "case.json"), "w") as f:
            json.dump({"graph": g, "tensors": self.tensors, "extra": self.extra}, f)

    # --- emitters for PyTorch modules (prefix = unique module path: shared modules share weights)
    def conv(self, x, m, p):
        nd = m.weight.dim() - 2
        attrs = {"strides": list(m.stride), "pads": list(m.padding) * 2, "dilations": list(m.dilation),
                 "group": m.groups}
        ins = [x, self.weight(p + ".weight", m.weight)]
        if m.bias is not None:
            ins.append(self.weight(p + ".bias", m.bias))
        if isinstance(m, (nn.ConvTranspose2d, nn.ConvTranspose3d)):
            attrs["output_padding"] = list(m.output_padding)
            return self.node("ConvTranspose", ins, attrs)
        assert nd in (2, 3)
        return self.node("Conv", ins, attrs)

    def bn(self, x, m, p):
        ins = [x] + [self.weight(p + "." + k, getattr(m, k)) for k in ("weight", "bias", "running_mean", "running_var")]
        return self.node("BatchNormalization", ins, {"epsilon": float(m.eps)})

    def relu(self, x):
        return self.node("Relu", [x])


def randomise_bn(model):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
    model.eval()


# ----------------------------------------------------------------------------- networks
class Block(nn.Module):
    def __init__(self, nd, cin, cout, stride):
        super().__init__()
        Conv, BN = (nn.Conv2d, nn.BatchNorm2d) if nd == 2 else (nn.Conv3d, nn.BatchNorm3d)
        self.conv1, self.bn1 = Conv(cin, cout, 3, stride, 1, bias=False), BN(cout)
        self.conv2, self.bn2 = Conv(cout, cout, 3, 1, 1, bias=False), BN(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(Conv(cin, cout, 1, stride, bias=False), BN(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = self.down(x) if self.down is not None else x
        return F.relu(y + s)

    def emit(self, c, x, p):
        y = c.relu(c.bn(c.conv(x, self.conv1, p + ".conv1"), self.bn1, p + ".bn1"))
        y = c.bn(c.conv(y, self.conv2, p + ".conv2"), self.bn2, p + ".bn2")
        s = x
        if self.down is not None:
            s = c.bn(c.conv(x, self.down[0], p + ".down0"), self.down[1], p + ".down1")
        return c.relu(c.node("Add", [y, s]))


class Encoder(nn.Module):
    def __init__(self, nd, w=4):
        super().__init__()
        Conv, BN = (nn.Conv2d, nn.BatchNorm2d) if nd == 2 else (nn.Conv3d, nn.BatchNorm3d)
        self.stem, self.bn = Conv(1, w, 3, 1, 1, bias=False), BN(w)
        self.layer1 = Block(nd, w, w, 1)
        self.layer2 = Block(nd, w, 2 * w, 2)

    def forward(self, x):
        return self.layer2(self.layer1(F.relu(self.bn(self.stem(x)))))

    def emit(self, c, x, p):
        y = c.relu(c.bn(c.conv(x, self.stem, p + ".stem"), self.bn, p + ".bn"))
        y = self.layer1.emit(c, y, p + ".layer1")
        layer = self.layer2.emit(c, y, p + ".layer2")
        return layer


class ResNet(nn.Module):
    def __init__(self, nd, classes=3, w=4):
        super().__init__()
        self.enc = Encoder(nd, w)
        self.fc = nn.Linear(2 * w, classes)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.enc(x), 1) if x.dim() == 4
                                     else F.adaptive_avg_pool3d(self.enc(x), 1), 1))

    def emit(self, c):
        layer = self.enc.emit(c, "x", "enc")
        y = c.node("Flatten", [c.node("GlobalAveragePool", [layer])], {"axis": 1})
        y = c.node("Gemm", [y, c.weight("fc.weight", self.fc.weight), c.weight("fc.bias", self.fc.bias)], {"transB": 1})
        c.outputs = [y]
        return [layer]


class Dual(nn.Module):
    """The A3 dual encoder, small: shared encoder, adaptive max pool, depth concat, concat
    pooling, BN1d-Dropout-Linear-ReLU-BN1d-Dropout-Linear head, softmax."""

    def __init__(self, w=4, hidden=8, outputs=2):
        super().__init__()
        self.enc = Encoder(3, w)
        f = 2 * w
        self.bn1, self.fc1 = nn.BatchNorm1d(2 * f), nn.Linear(2 * f, hidden, bias=False)
        self.bn2, self.fc2 = nn.BatchNorm1d(hidden), nn.Linear(hidden, outputs, bias=False)

    def logits(self, t1, stir):
        a = F.adaptive_max_pool3d(self.enc(t1), 1)
        b = F.adaptive_max_pool3d(self.enc(stir), 1)
        z = torch.cat([a, b], 2)
        z = torch.cat([F.adaptive_max_pool3d(z, 1), F.adaptive_avg_pool3d(z, 1)], 1).flatten(1)
        z = F.relu(self.fc1(self.bn1(z)))
        return self.fc2(self.bn2(z))

    def forward(self, t1, stir):
        return torch.softmax(self.logits(t1, stir), 1)

    def emit(self, c):
        outs, layers = [], []
        for inp in ("t1", "stir"):
            layer = self.enc.emit(c, inp, "enc")
            layers.append(layer)
            outs.append(c.node("AdaptiveMaxPool", [layer], {"output_size": [1, 1, 1]}))
        z = c.node("Concat", outs, {"axis": 2})
        z = c.node("Concat", [c.node("AdaptiveMaxPool", [z], {"output_size": [1, 1, 1]}),
                              c.node("GlobalAveragePool", [z])], {"axis": 1})
        z = c.node("Flatten", [z], {"axis": 1})
        z = c.bn(z, self.bn1, "bn1")
        z = c.node("Dropout", [z])
        z = c.relu(c.node("Gemm", [z, c.weight("fc1.weight", self.fc1.weight)], {"transB": 1}))
        z = c.node("Dropout", [c.bn(z, self.bn2, "bn2")])
        z = c.node("Gemm", [z, c.weight("fc2.weight", self.fc2.weight)], {"transB": 1})
        c.outputs = [c.node("Softmax", [z], {"axis": 1})]
        return layers


class UNet(nn.Module):
    """A 2-level 2-D U-Net: double conv, max pool, bottleneck, transposed conv, skip concat."""

    def __init__(self, w=4, classes=3):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(1, w, 3, 1, 1), nn.BatchNorm2d(w)
        self.c2, self.b2 = nn.Conv2d(w, 2 * w, 3, 1, 1), nn.BatchNorm2d(2 * w)
        self.up = nn.ConvTranspose2d(2 * w, w, 2, 2)
        self.c3, self.b3 = nn.Conv2d(2 * w, w, 3, 1, 1), nn.BatchNorm2d(w)
        self.head = nn.Conv2d(w, classes, 1)

    def forward(self, x):
        e1 = F.relu(self.b1(self.c1(x)))
        e2 = F.relu(self.b2(self.c2(F.max_pool2d(e1, 2))))
        self.bottleneck = e2
        d = torch.cat([self.up(e2), e1], 1)
        return self.head(F.relu(self.b3(self.c3(d))))

    def emit(self, c):
        e1 = c.relu(c.bn(c.conv("x", self.c1, "c1"), self.b1, "b1"))
        p = c.node("MaxPool", [e1], {"kernel_shape": [2, 2], "strides": [2, 2]})
        c2 = c.conv(p, self.c2, "c2")
        e2 = c.relu(c.bn(c2, self.b2, "b2"))
        d = c.node("Concat", [c.conv(e2, self.up, "up"), e1], {"axis": 1})
        y = c.relu(c.bn(c.conv(d, self.c3, "c3"), self.b3, "b3"))
        c.outputs = [c.conv(y, self.head, "head")]
        return [c2]


# ----------------------------------------------------------------------------- recipes
def normalise(cam, size):
    mode = "bilinear" if cam.dim() == 4 else "trilinear"
    m = F.interpolate(cam, size=size, mode=mode, align_corners=True).clamp(min=0)
    lo, hi = m.min(), m.max()
    return ((m - lo) / (hi - lo) if hi > lo else torch.zeros_like(m)), hi


def cams(acts, grads):
    """Grad-CAM and Grad-CAM++ (pytorch-grad-cam's weights) from one activation/gradient pair."""
    axes = tuple(range(2, acts.dim()))
    w = grads.mean(dim=axes, keepdim=True)
    g2 = grads ** 2
    g3 = g2 * grads
    suma = acts.sum(dim=axes, keepdim=True)
    alpha = g2 / (2 * g2 + suma * g3 + 1e-6)
    alpha = torch.where(grads != 0, alpha, torch.zeros_like(alpha))
    wpp = (torch.clamp(grads, min=0) * alpha).sum(dim=axes, keepdim=True)
    return (w * acts).sum(1, keepdim=True), (wpp * acts).sum(1, keepdim=True)


def run_cam(name, model, module, inputs, score_fn, emit_inputs, extra=None):
    randomise_bn(model)
    c = Case(name)
    c.inputs = emit_inputs
    layers = model.emit(c)
    acts, grads = [], []

    def hook(_m, _i, out):
        acts.append(out)
        out.register_hook(lambda g: grads.append(g))

    h = module.register_forward_hook(hook)
    out = model.logits(*inputs) if hasattr(model, "logits") else model(*inputs)
    score, cls = score_fn(out)
    score.backward()
    h.remove()
    grads = grads[::-1]  # hooks fire in reverse order of the forward calls
    for i, (a, g) in enumerate(zip(acts, grads)):
        gc, pp = cams(a.detach(), g.detach())
        size = inputs[min(i, len(inputs) - 1)].shape[2:]
        m, hi = normalise(gc, size)
        mpp, hipp = normalise(pp, size)
        c.tensor(f"gradcam_{i}", m)
        c.tensor(f"gradcampp_{i}", mpp)
        c.extra[f"raw_max_{i}"] = float(hi)
    for k, t in zip([e["name"] for e in emit_inputs], inputs):
        c.tensor(k, t)
    c.extra.update({"class": cls, "score": float(score), "layers": layers})
    c.extra.update(extra or {})
    c.write()


def classify(out):
    cls = int(out[0].argmax())
    return out[0, cls], cls


m2 = ResNet(2)
run_cam("cam_resnet2d", m2, m2.enc.layer2, [torch.randn(1, 1, 20, 24)], classify,
        [{"name": "x", "shape": [1, 1, 20, 24]}])
m3 = ResNet(3)
run_cam("cam_resnet3d", m3, m3.enc.layer2, [torch.randn(1, 1, 6, 12, 10)], classify,
        [{"name": "x", "shape": [1, 1, 6, 12, 10]}])
md = Dual()
run_cam("cam_dual", md, md.enc.layer2, [torch.randn(1, 1, 6, 12, 12), torch.randn(1, 1, 6, 12, 12)], classify,
        [{"name": "t1", "shape": [1, 1, 6, 12, 12]}, {"name": "stir", "shape": [1, 1, 6, 12, 12]}])
mu = UNet()
x_u = torch.randn(1, 1, 16, 16)


def seg_score(out):
    region = (out.argmax(1) == 1).float()
    return (out[0, 1] * region[0]).sum(), 1


run_cam("cam_unet2d", mu, mu.c2, [x_u], seg_score, [{"name": "x", "shape": [1, 1, 16, 16]}])
# The U-Net hook sits on c2 (a conv); Grad-CAM there is the conv output, named in extra.

# ----------------------------------------------------------------------------- op gradients
def op_case(name, op, x, fn, attrs=None, weights=None, extra_inputs=None):
    c = Case("op_" + name)
    x = x.clone().requires_grad_(True)
    ins = ["x"]
    for k, w in (weights or {}).items():
        ins.append(c.weight(k, w))
    c.inputs = [{"name": "x", "shape": list(x.shape)}]
    y = fn(x)
    c.outputs = [c.node(op, ins, attrs, name="op")]
    dy = torch.randn_like(y)
    y.backward(dy)
    c.tensor("x", x)
    c.tensor("dy", dy)
    c.tensor("dx", x.grad)
    c.write()


r = torch.randn
ties = lambda *s: torch.round(r(*s) * 1.5) / 2  # many equal values: max-pool tie breaking
w_lin, b_lin = r(5, 7), r(5)
op_case("gemm", "Gemm", r(3, 7), lambda x: F.linear(x, w_lin, b_lin), {"transB": 1}, {"w": w_lin, "b": b_lin})
w_mm = r(7, 4)
op_case("matmul", "MatMul", r(3, 7), lambda x: x @ w_mm, None, {"w": w_mm})
w_mmb = r(3, 7, 4)  # batched MatMul, B broadcast over the leading dim (matops)
op_case("matmul_batched", "MatMul", r(2, 3, 5, 7), lambda x: x @ w_mmb, None, {"w": w_mmb})
bn = nn.BatchNorm3d(3)
randomise_bn(bn)
op_case("batchnorm", "BatchNormalization", r(2, 3, 3, 4, 5), bn, {"epsilon": 1e-5},
        {"g": bn.weight, "b": bn.bias, "m": bn.running_mean, "v": bn.running_var})
op_case("relu", "Relu", r(2, 3, 4, 5), F.relu)
op_case("leaky", "LeakyRelu", r(2, 3, 4, 5), lambda x: F.leaky_relu(x, 0.1), {"alpha": 0.1})
op_case("sigmoid", "Sigmoid", r(2, 3, 4, 5), torch.sigmoid)
op_case("tanh", "Tanh", r(2, 3, 4, 5), torch.tanh)
op_case("flatten", "Flatten", r(2, 3, 4, 5), lambda x: x.flatten(1), {"axis": 1})
op_case("softmax", "Softmax", r(2, 5, 3), lambda x: torch.softmax(x, 1), {"axis": 1})
op_case("gap3d", "GlobalAveragePool", r(2, 3, 3, 4, 5), lambda x: F.adaptive_avg_pool3d(x, 1))
op_case("gmp3d_ties", "GlobalMaxPool", ties(2, 3, 3, 4, 5), lambda x: F.adaptive_max_pool3d(x, 1))
op_case("adaptive_avg", "AdaptiveAveragePool", r(1, 2, 5, 7, 6), lambda x: F.adaptive_avg_pool3d(x, (2, 3, 4)),
        {"output_size": [2, 3, 4]})
op_case("adaptive_max", "AdaptiveMaxPool", ties(1, 2, 5, 7, 6), lambda x: F.adaptive_max_pool3d(x, (2, 3, 4)),
        {"output_size": [2, 3, 4]})
op_case("maxpool3d_ties", "MaxPool", ties(1, 2, 5, 6, 7), lambda x: F.max_pool3d(x, 3, 2, 1),
        {"kernel_shape": [3, 3, 3], "strides": [2, 2, 2], "pads": [1] * 6})
op_case("avgpool3d", "AveragePool", r(1, 2, 5, 6, 7), lambda x: F.avg_pool3d(x, 3, 2, 1, count_include_pad=False),
        {"kernel_shape": [3, 3, 3], "strides": [2, 2, 2], "pads": [1] * 6})
op_case("avgpool2d_incl", "AveragePool", r(1, 2, 6, 7), lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=True),
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1] * 4, "count_include_pad": 1})
w_c3 = r(6, 2, 3, 3, 3)
op_case("conv3d_group_stride", "Conv", r(1, 4, 5, 6, 7), lambda x: F.conv3d(x, w_c3, None, 2, 1, 1, 2),
        {"strides": [2] * 3, "pads": [1] * 6, "group": 2}, {"w": w_c3})
w_c2 = r(5, 3, 3, 3)
op_case("conv2d_dil", "Conv", r(2, 3, 9, 8), lambda x: F.conv2d(x, w_c2, None, 1, 2, 2),
        {"pads": [2] * 4, "dilations": [2, 2]}, {"w": w_c2})
w_t3 = r(4, 3, 3, 3, 3)
op_case("convt3d", "ConvTranspose", r(1, 4, 3, 4, 5),
        lambda x: F.conv_transpose3d(x, w_t3, None, 2, 1, 1),
        {"strides": [2] * 3, "pads": [1] * 6, "output_padding": [1] * 3}, {"w": w_t3})
for mode, ac, nd in [("nearest", 0, 3), ("linear", 1, 3), ("linear", 0, 3), ("linear", 1, 2), ("linear", 0, 2)]:
    x = r(1, 2, 3, 4, 5) if nd == 3 else r(1, 2, 4, 5)
    size = (5, 9, 7) if nd == 3 else (9, 7)
    tm = "nearest" if mode == "nearest" else ("trilinear" if nd == 3 else "bilinear")
    kw = {} if mode == "nearest" else {"align_corners": bool(ac)}
    attrs = {"mode": mode, "sizes": list(size)}
    if mode == "linear":
        attrs["align_corners"] = ac
    op_case(f"resize_{mode}_{ac}_{nd}d", "Resize", x, lambda x, s=size, m=tm, k=kw: F.interpolate(x, size=s, mode=m, **k),
            attrs)
op_case("resize_nearest_scale2", "Resize", r(1, 2, 3, 4), lambda x: F.interpolate(x, scale_factor=2.0, mode="nearest"),
        {"mode": "nearest", "scales": [2.0, 2.0]})
for mode, tm in [("constant", "constant"), ("reflect", "reflect"), ("edge", "replicate")]:
    op_case(f"pad_{mode}", "Pad", r(1, 2, 4, 5, 6), lambda x, m=tm: F.pad(x, (2, 1, 1, 2, 2, 0), mode=m),
            {"pads": [0, 0, 2, 1, 2, 0, 0, 0, 2, 1], "mode": mode})
op_case("slice", "Slice", r(2, 9, 3, 4), lambda x: x[:, 2:7, :, 1:], {"starts": [2, 1], "ends": [7, 100], "axes": [1, 3]})


def bin_case(name, op, shape_a, shape_b):
    c = Case("op_" + name)
    a = r(*shape_a).requires_grad_(True)
    b = (r(*shape_b).abs() + 0.5).requires_grad_(True)
    f = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}[op]
    y = f(a, b)
    dy = torch.randn_like(y)
    y.backward(dy)
    c.inputs = [{"name": "x", "shape": list(shape_a)}, {"name": "b", "shape": list(shape_b)}]
    c.outputs = [c.node(op, ["x", "b"], name="op")]
    for k, t in [("x", a), ("b", b), ("dy", dy), ("dx", a.grad), ("db", b.grad)]:
        c.tensor(k, t)
    c.write()


for op in ("Add", "Sub", "Mul", "Div"):
    bin_case(op.lower() + "_broadcast", op, (2, 3, 4, 5), (3, 1, 5))
bin_case("mul_broadcast_left", "Mul", (3, 1, 5), (2, 3, 4, 5))


def concat_case():
    c = Case("op_concat")
    a, b = r(2, 3, 5).requires_grad_(True), r(2, 4, 5).requires_grad_(True)
    y = torch.cat([a, b], 1)
    dy = torch.randn_like(y)
    y.backward(dy)
    c.inputs = [{"name": "x", "shape": [2, 3, 5]}, {"name": "b", "shape": [2, 4, 5]}]
    c.outputs = [c.node("Concat", ["x", "b"], {"axis": 1}, name="op")]
    for k, t in [("x", a), ("b", b), ("dy", dy), ("dx", a.grad), ("db", b.grad)]:
        c.tensor(k, t)
    c.write()


concat_case()

# Activations and math of issue 18 (lib/ops/activation.cpp); appended so earlier cases keep their data.
a6 = lambda *s: r(*s) * 4  # across every branch of the piecewise ones
pos = lambda *s: torch.rand(*s) * 4 + 0.1
op_case("elu", "Elu", a6(2, 3, 4, 5), lambda x: F.elu(x, 0.7), {"alpha": 0.7})
op_case("selu", "Selu", a6(2, 3, 4, 5), F.selu)
op_case("hardsigmoid", "HardSigmoid", a6(2, 3, 4, 5), lambda x: torch.clamp(0.2 * x + 0.5, 0, 1))
op_case("hardsigmoid_torch", "HardSigmoid", a6(2, 3, 4, 5), F.hardsigmoid, {"alpha": 1 / 6, "beta": 0.5})
op_case("hardswish", "HardSwish", a6(2, 3, 4, 5), F.hardswish)
op_case("softplus", "Softplus", a6(2, 3, 4, 5) * 6, F.softplus)
op_case("erf", "Erf", a6(2, 3, 4, 5) / 2, torch.erf)
op_case("gelu", "Gelu", a6(2, 3, 4, 5), F.gelu)
op_case("clip", "Clip", a6(2, 3, 4, 5), lambda x: torch.clamp(x, -1.0, 2.0), {"min": -1.0, "max": 2.0})
op_case("relu6", "Clip", a6(2, 3, 4, 5) * 2, F.relu6, {"min": 0.0, "max": 6.0})
op_case("exp", "Exp", a6(2, 3, 4, 5), torch.exp)
op_case("log", "Log", pos(2, 3, 4, 5), torch.log)
op_case("sqrt", "Sqrt", pos(2, 3, 4, 5), torch.sqrt)
op_case("neg", "Neg", a6(2, 3, 4, 5), torch.neg)
op_case("abs", "Abs", a6(2, 3, 4, 5), torch.abs)
op_case("pow2", "Pow", a6(2, 3, 4, 5), lambda x: x ** 2, {"exponent": 2.0})
op_case("pow_half", "Pow", pos(2, 3, 4, 5), lambda x: x ** 0.5, {"exponent": 0.5})
op_case("pow3", "Pow", a6(2, 3, 4, 5), lambda x: x ** 3, {"exponent": 3.0})
op_case("pow_1.7", "Pow", pos(2, 3, 4, 5), lambda x: x ** 1.7, {"exponent": 1.7})
# Reductions, LayerNormalization, LogSoftmax (issue 18; lib/ops/reduce.cpp, layer_norm.cpp,
# softmax.cpp); appended so earlier cases keep their data. ReduceMax / ReduceMin against
# torch.amax / amin, whose gradient splits equally among tied maxima.
op_case("reducemean_spatial", "ReduceMean", r(2, 3, 4, 5, 6), lambda x: x.mean(dim=(2, 3, 4), keepdim=True),
        {"axes": [2, 3, 4]})
op_case("reducemean_last_nokeep", "ReduceMean", r(2, 3, 7), lambda x: x.mean(dim=-1), {"axes": [-1], "keepdims": 0})
op_case("reducesum_split", "ReduceSum", r(2, 3, 4, 5), lambda x: x.sum(dim=(1, 3), keepdim=True), {"axes": [1, 3]})
op_case("reducemax_ties", "ReduceMax", ties(2, 3, 4, 5), lambda x: x.amax(dim=(2, 3), keepdim=True), {"axes": [2, 3]})
op_case("reducemin_ties_nokeep", "ReduceMin", ties(2, 6, 5), lambda x: x.amin(dim=1), {"axes": [1], "keepdims": 0})
op_case("reduceprod", "ReduceProd", torch.rand(2, 3, 5) + 0.5, lambda x: x.prod(dim=-1, keepdim=True), {"axes": [-1]})
op_case("reducel2", "ReduceL2", r(2, 4, 5), lambda x: torch.linalg.vector_norm(x, dim=1, keepdim=True), {"axes": [1]})
op_case("reducelogsumexp", "ReduceLogSumExp", r(2, 4, 5) * 3, lambda x: torch.logsumexp(x, dim=1, keepdim=True),
        {"axes": [1]})
g_ln, b_ln = r(16), r(16)
op_case("layernorm", "LayerNormalization", r(2, 5, 16) * 2 + 1, lambda x: F.layer_norm(x, (16,), g_ln, b_ln, 1e-5),
        {"axis": -1, "epsilon": 1e-5}, {"g": g_ln, "b": b_ln})
g_ln2 = r(4, 6)
op_case("layernorm_two_axes", "LayerNormalization", r(2, 3, 4, 6), lambda x: F.layer_norm(x, (4, 6), g_ln2, None, 1e-5),
        {"axis": 2}, {"g": g_ln2})
op_case("logsoftmax", "LogSoftmax", r(2, 5, 7) * 3, lambda x: F.log_softmax(x, -1), {"axis": -1})

# View ops of issue 18 (lib/ops/view_transform.cpp): Transpose is the inverse permutation, Expand and
# Tile sum over the copies, Where routes dy by its constant mask, Split concatenates its outputs' dy.
op_case("transpose", "Transpose", r(2, 3, 4, 5), lambda x: x.permute(0, 3, 1, 2), {"perm": [0, 3, 1, 2]})
op_case("transpose5d", "Transpose", r(2, 3, 4, 5, 2), lambda x: x.permute(0, 2, 4, 1, 3), {"perm": [0, 2, 4, 1, 3]})
op_case("expand", "Expand", r(2, 1, 4, 1), lambda x: x.expand(3, 2, 5, 4, 6), {"shape": [3, 2, 5, 4, 6]})
op_case("tile", "Tile", r(2, 3, 4), lambda x: x.repeat(2, 1, 3), {"repeats": [2, 1, 3]})
op_case("cast", "Cast", r(2, 3, 4), lambda x: x.float() * 1.0, {"to": 1})


def where_case():
    c = Case("op_where")
    x = r(2, 3, 4, 5).requires_grad_(True)
    mask = torch.rand(3, 1, 5) > 0.5
    other = r(4, 1)
    y = torch.where(mask, x, other)
    dy = torch.randn_like(y)
    y.backward(dy)
    c.inputs = [{"name": "x", "shape": list(x.shape)}]
    c.outputs = [c.node("Where", [c.weight("mask", mask.float()), "x", c.weight("other", other)], name="op")]
    for k, t in [("x", x), ("dy", dy), ("dx", x.grad)]:
        c.tensor(k, t)
    c.write()


def split_case(name, used):
    """Split into three along axis 1, then a Concat of the outputs in `used` (order and choice vary,
    so the rule must take each output's own dy and zero the unused ones)."""
    c = Case("op_" + name)
    x = r(2, 6, 3).requires_grad_(True)
    parts = torch.split(x, [1, 2, 3], dim=1)
    y = torch.cat([parts[i] for i in used], 1)
    dy = torch.randn_like(y)
    y.backward(dy)
    c.inputs = [{"name": "x", "shape": list(x.shape)}]
    sp = c.node("Split", ["x"], {"axis": 1, "split": [1, 2, 3]}, name="op", nout=3)
    outs = [sp] + [f"{sp}:{i}" for i in (1, 2)]
    c.outputs = [c.node("Concat", [outs[i] for i in used], {"axis": 1}, name="cat")]
    for k, t in [("x", x), ("dy", dy), ("dx", x.grad)]:
        c.tensor(k, t)
    c.write()


where_case()
split_case("split_all", [2, 0, 1])
split_case("split_unused_first", [2, 1])
print("wrote", OUT)
