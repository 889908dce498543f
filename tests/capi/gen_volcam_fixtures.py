#!/usr/bin/python3
"""Fixtures for the volume and Grad-CAM C API, Python and R tests (PyTorch and nibabel oracles).

    gen_volcam_fixtures.py OUTDIR

OUTDIR/resnet3d.vxm   x[1,1,-1,-1,-1] -> stem Conv-BN-ReLU -> residual block (stride 2, 1x1 down
                      projection) = layer "block_out" -> GlobalAveragePool -> Flatten -> Gemm (3 logits)
OUTDIR/dual.vxm       t1, stir [1,1,-1,-1,-1] -> ONE encoder (Conv-BN-ReLU, Conv stride 2-ReLU = layer
                      "enc_out" / "enc_out_b"; the same weights) on each -> GAP -> Concat -> Flatten ->
                      Gemm -> Softmax
For each model NAME: NAME_in{i}.npy/.f32 (inputs), NAME_cam{i}.npy/.f32 (PyTorch autograd Grad-CAM:
forward hook on the layer, backward of the raw logit of the predicted class, mean gradient weights,
trilinear resize align_corners=True to the input, clamp at 0, min-max), NAME_campp{i} (Grad-CAM++,
pytorch-grad-cam weights; resnet3d only) and NAME.json (shapes, class, raw maxima).
Volumes: t1w.f32 / t1w_affine.f64 / t1w.json: nibabel's get_fdata() of the spine T1 (as float32,
Fortran order = x fastest) and its affine, for the R test.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import vxm

torch.set_num_threads(1)


def f32(outdir, name, a):
    a = np.ascontiguousarray(a, dtype=np.float32)
    np.save(os.path.join(outdir, name + ".npy"), a)
    a.astype("<f4").tofile(os.path.join(outdir, name + ".f32"))


def randomise_bn(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm3d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
    model.eval()


class Emitter:
    def __init__(self):
        self.nodes, self.tensors = [], {}

    def w(self, key, t):
        self.tensors.setdefault(key, t.detach().float().numpy().copy())
        return key

    def node(self, name, op, inputs, attrs=None):
        self.nodes.append({"name": name, "op": op, "inputs": inputs, "outputs": [name], "attrs": attrs or {}})
        return name

    def conv(self, name, x, m, p):
        ins = [x, self.w(p + ".w", m.weight)] + ([self.w(p + ".b", m.bias)] if m.bias is not None else [])
        return self.node(name, "Conv", ins, {"strides": list(m.stride), "pads": list(m.padding) * 2})

    def bn(self, name, x, m, p):
        return self.node(name, "BatchNormalization",
                         [x] + [self.w(p + "." + k, getattr(m, k)) for k in ("weight", "bias", "running_mean",
                                                                              "running_var")],
                         {"epsilon": float(m.eps)})


class ResNet3d(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem, self.bn0 = nn.Conv3d(1, 4, 3, 1, 1, bias=False), nn.BatchNorm3d(4)
        self.c1, self.bn1 = nn.Conv3d(4, 8, 3, 2, 1, bias=False), nn.BatchNorm3d(8)
        self.c2, self.bn2 = nn.Conv3d(8, 8, 3, 1, 1, bias=False), nn.BatchNorm3d(8)
        self.down, self.bnd = nn.Conv3d(4, 8, 1, 2, 0, bias=False), nn.BatchNorm3d(8)
        self.block = nn.ReLU()  # the hooked layer: the block's output
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        h = F.relu(self.bn0(self.stem(x)))
        y = self.bn2(self.c2(F.relu(self.bn1(self.c1(h)))))
        y = self.block(y + self.bnd(self.down(h)))
        return self.fc(F.adaptive_avg_pool3d(y, 1).flatten(1))

    def emit(self, e):
        h = e.node("r0", "Relu", [e.bn("bn0", e.conv("stem", "x", self.stem, "stem"), self.bn0, "bn0")])
        y = e.node("r1", "Relu", [e.bn("bn1", e.conv("c1", h, self.c1, "c1"), self.bn1, "bn1")])
        y = e.bn("bn2", e.conv("c2", y, self.c2, "c2"), self.bn2, "bn2")
        d = e.bn("bnd", e.conv("down", h, self.down, "down"), self.bnd, "bnd")
        y = e.node("block_out", "Relu", [e.node("add", "Add", [y, d])])
        y = e.node("flat", "Flatten", [e.node("gap", "GlobalAveragePool", [y])], {"axis": 1})
        return e.node("logits", "Gemm", [y, e.w("fc.w", self.fc.weight), e.w("fc.b", self.fc.bias)], {"transB": 1})


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.bn1 = nn.Conv3d(1, 4, 3, 1, 1), nn.BatchNorm3d(4)
        self.c2 = nn.Conv3d(4, 6, 3, 2, 1)
        self.out = nn.ReLU()  # the hooked layer

    def forward(self, x):
        return self.out(self.c2(F.relu(self.bn1(self.c1(x)))))

    def emit(self, e, x, sfx):
        h = e.node("er" + sfx, "Relu", [e.bn("ebn" + sfx, e.conv("ec1" + sfx, x, self.c1, "enc.c1"), self.bn1, "enc.bn1")])
        return e.node("enc_out" + sfx, "Relu", [e.conv("ec2" + sfx, h, self.c2, "enc.c2")])


class Dual(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = Encoder()
        self.fc = nn.Linear(12, 2)

    def logits(self, t1, stir):
        a = F.adaptive_avg_pool3d(self.enc(t1), 1)
        b = F.adaptive_avg_pool3d(self.enc(stir), 1)
        return self.fc(torch.cat([a, b], 1).flatten(1))

    def emit(self, e):
        a = e.node("gap_a", "GlobalAveragePool", [self.enc.emit(e, "t1", "")])
        b = e.node("gap_b", "GlobalAveragePool", [self.enc.emit(e, "stir", "_b")])
        z = e.node("flat", "Flatten", [e.node("cat", "Concat", [a, b], {"axis": 1})], {"axis": 1})
        z = e.node("logits", "Gemm", [z, e.w("fc.w", self.fc.weight), e.w("fc.b", self.fc.bias)], {"transB": 1})
        return e.node("probs", "Softmax", [z], {"axis": 1})


def cam_maps(acts, grads, sizes):
    """Grad-CAM and Grad-CAM++ maps (published recipe) and their raw maxima, per application."""
    out = []
    for a, g, size in zip(acts, grads, sizes):
        axes = (2, 3, 4)
        w = g.mean(dim=axes, keepdim=True)
        g2, g3 = g ** 2, g ** 3
        alpha = g2 / (2 * g2 + a.sum(dim=axes, keepdim=True) * g3 + 1e-6)
        alpha = torch.where(g != 0, alpha, torch.zeros_like(alpha))
        wpp = (torch.clamp(g, min=0) * alpha).sum(dim=axes, keepdim=True)
        res = []
        for cam in ((w * a).sum(1, keepdim=True), (wpp * a).sum(1, keepdim=True)):
            m = F.interpolate(cam, size=size, mode="trilinear", align_corners=True).clamp(min=0)
            lo, hi = m.min(), m.max()
            res.append((((m - lo) / (hi - lo)) if hi > lo else torch.zeros_like(m), float(hi)))
        out.append(res)
    return out


def explain(outdir, name, model, module, inputs, logits_fn, emit_inputs, metadata):
    e = Emitter()
    outputs = [model.emit(e)]
    graph = {"inputs": emit_inputs, "outputs": outputs, "nodes": e.nodes}
    vxm.write(os.path.join(outdir, name + ".vxm"), graph, e.tensors, metadata)
    acts, grads = [], []

    def hook(_m, _i, out):
        acts.append(out)
        out.register_hook(lambda g: grads.append(g))

    h = module.register_forward_hook(hook)
    logits = logits_fn(*inputs)
    cls = int(logits[0].argmax())
    logits[0, cls].backward()
    h.remove()
    grads = grads[::-1]  # backward hooks fire in reverse order of the forward calls
    maps = cam_maps([a.detach() for a in acts], [g.detach() for g in grads], [x.shape[2:] for x in inputs])
    info = {"inputs": [list(x.shape) for x in inputs], "class": cls, "raw_max": [], "raw_max_pp": []}
    for i, x in enumerate(inputs):
        f32(outdir, f"{name}_in{i}", x.numpy())
    for i, ((m, hi), (mpp, hipp)) in enumerate(maps):
        f32(outdir, f"{name}_cam{i}", m.numpy())
        f32(outdir, f"{name}_campp{i}", mpp.numpy())
        info["raw_max"].append(hi)
        info["raw_max_pp"].append(hipp)
    info["cam_shapes"] = [list(m.shape) for (m, _), _ in maps]
    with open(os.path.join(outdir, name + ".json"), "w") as f:
        json.dump(info, f)


def volume(outdir):
    import nibabel as nib
    path = os.path.join(os.environ.get("VX_TEST_DATA_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")), "mri", "spine-cervical-sct", "t1", "t1w.nii.gz")
    img = nib.load(path)
    data = np.asarray(img.get_fdata(), dtype=np.float32)
    data.ravel(order="F").astype("<f4").tofile(os.path.join(outdir, "t1w.f32"))  # x fastest, as R stores it
    np.asarray(img.affine, dtype="<f8").tofile(os.path.join(outdir, "t1w_affine.f64"))  # row-major
    with open(os.path.join(outdir, "t1w.json"), "w") as f:
        json.dump({"path": path, "shape": list(data.shape)}, f)


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(7)
    r = ResNet3d()
    randomise_bn(r)
    explain(outdir, "resnet3d", r, r.block, [torch.randn(1, 1, 6, 12, 10)], r,
            [{"name": "x", "shape": [-1, 1, -1, -1, -1]}],
            {"name": "resnet3d", "gradcam_layer": "block_out", "outputs": [{"name": "logits", "kind": "logits"}]})
    d = Dual()
    randomise_bn(d)
    # Different grids per input: each map must come back on its own input's grid.
    explain(outdir, "dual", d, d.enc.out, [torch.randn(1, 1, 6, 10, 8), torch.randn(1, 1, 8, 6, 10)], d.logits,
            [{"name": "t1", "shape": [1, 1, -1, -1, -1]}, {"name": "stir", "shape": [1, 1, -1, -1, -1]}],
            {"name": "dual", "gradcam_layer": "enc_out"})
    volume(outdir)


if __name__ == "__main__":
    main()
