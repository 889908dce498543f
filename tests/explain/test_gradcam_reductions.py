"""Grad-CAM through the reductions and LayerNorm (issue 18): a 3-D conv classifier whose head is
torch.mean (ReduceMean) or torch.amax (ReduceMax) over space, then nn.LayerNorm (torch's opset-13
chain, fused by the converter into one LayerNormalization), Linear and log_softmax, exported with
torch.onnx.export and converted with no metadata. The engine's default layer is the reduction's
input; its Grad-CAM and Grad-CAM++ maps match PyTorch autograd's (the published recipe: raw logit,
mean gradient, trilinear resize with align_corners, clamp at 0, min-max normalisation) within 1e-3.
"""
import io

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import convert
import voxinfer

torch.set_num_threads(1)


class Net(nn.Module):
    def __init__(self, pool):
        super().__init__()
        self.c1, self.c2 = nn.Conv3d(1, 8, 3, padding=1), nn.Conv3d(8, 16, 3, stride=2, padding=1)
        self.ln, self.fc = nn.LayerNorm(16), nn.Linear(16, 3)
        with torch.no_grad():
            self.ln.weight.uniform_(0.5, 1.5)
            self.ln.bias.uniform_(-0.3, 0.3)
        self.pool = pool

    def features(self, x):
        return F.relu(self.c2(F.relu(self.c1(x))))

    def head(self, f):
        p = f.mean(dim=(2, 3, 4)) if self.pool == "mean" else torch.amax(f, dim=(2, 3, 4))
        return self.fc(self.ln(p))

    def forward(self, x):
        return torch.log_softmax(self.head(self.features(x)), 1)


def torch_maps(net, x):
    f = net.features(x).detach().requires_grad_(True)
    logits = net.head(f)
    cls = int(logits[0].argmax())
    logits[0, cls].backward()
    a, g = f.detach(), f.grad
    axes = (2, 3, 4)
    gc = (g.mean(dim=axes, keepdim=True) * a).sum(1, keepdim=True)
    g2 = g ** 2
    alpha = g2 / (2 * g2 + a.sum(dim=axes, keepdim=True) * g2 * g + 1e-6)
    alpha = torch.where(g != 0, alpha, torch.zeros_like(alpha))
    pp = ((torch.clamp(g, min=0) * alpha).sum(dim=axes, keepdim=True) * a).sum(1, keepdim=True)
    out = []
    for cam in (gc, pp):
        m = F.interpolate(cam, size=x.shape[2:], mode="trilinear", align_corners=True).clamp(min=0)
        lo, hi = m.min(), m.max()
        out.append(((m - lo) / (hi - lo))[0, 0].numpy())
    return out, cls


@pytest.mark.parametrize("pool", ["mean", "amax"])
def test_gradcam_through_reduction_and_layer_norm(pool, tmp_path):
    torch.manual_seed(7)
    net = Net(pool).eval()
    x = torch.randn(1, 1, 10, 12, 11)
    buf = io.BytesIO()
    torch.onnx.export(net, (x,), buf, opset_version=13, input_names=["input"], output_names=["output"])
    out = tmp_path / "m.vxm"
    graph, _, _ = convert.convert_onnx(buf.getvalue(), str(out), input_shapes={"input": list(x.shape)})
    ops = [n["op"] for n in graph["nodes"]]
    assert "LayerNormalization" in ops and ("ReduceMean" if pool == "mean" else "ReduceMax") in ops, ops
    (want_gc, want_pp), cls = torch_maps(net, x)
    with voxinfer.Model(str(out), threads=2) as m:
        for method, want in (("gradcam", want_gc), ("gradcam++", want_pp)):
            maps = m.gradcam(x.numpy(), method=method)
            assert len(maps) == 1 and maps.target == cls
            got = np.asarray(maps[0])
            assert got.shape == want.shape, (got.shape, want.shape)
            err = float(np.max(np.abs(got - want)))
            assert err <= 1e-3, f"{method}: max abs diff {err:.3g}"
