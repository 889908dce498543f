"""A dual encoder (one encoder module applied to T1 and to STIR, as in the published sacroiliac
classifier) exported by plain torch.onnx.export, with and without constant folding, and converted
with no metadata: Grad-CAM's defaults give one map per application of the shared encoder, in input
order, each equal to PyTorch autograd's Grad-CAM of that application within 1e-3 (max abs, maps
normalised to [0, 1]). The encoder keeps the input grid, so no resize enters the comparison."""
import io

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import convert
import voxinfer

torch.set_num_threads(1)


class Encoder(nn.Module):
    def __init__(self, c=6):
        super().__init__()
        self.c1, self.b1 = nn.Conv3d(1, c, 3, padding=1), nn.BatchNorm3d(c)
        self.c2, self.b2 = nn.Conv3d(c, c, 3, padding=1), nn.BatchNorm3d(c)

    def forward(self, x):
        return F.relu(self.b2(self.c2(F.relu(self.b1(self.c1(x))))))


class Dual(nn.Module):
    def __init__(self, c=6, classes=3):
        super().__init__()
        self.enc = Encoder(c)
        self.fc = nn.Linear(2 * c, classes)
        self.feats = []

    def forward(self, t1, stir):
        self.feats = [self.enc(t1), self.enc(stir)]
        for f in self.feats:
            if f.requires_grad:
                f.retain_grad()
        z = torch.cat([F.adaptive_max_pool3d(f, 1).flatten(1) for f in self.feats], 1)
        return torch.softmax(self.fc(z), 1)


def randomized(seed=0):
    torch.manual_seed(seed)
    m = Dual()
    for bn in (m.enc.b1, m.enc.b2):
        bn.running_mean.uniform_(-0.3, 0.3)
        bn.running_var.uniform_(0.5, 1.5)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.2, 0.2)
    return m.eval()


def torch_gradcam(model, t1, stir):
    """Grad-CAM of each application of the encoder's output, for the predicted class's logit."""
    t1, stir = t1.clone().requires_grad_(True), stir.clone().requires_grad_(True)
    feats = [model.enc(t1), model.enc(stir)]
    for f in feats:
        f.retain_grad()
    z = torch.cat([F.adaptive_max_pool3d(f, 1).flatten(1) for f in feats], 1)
    logits = model.fc(z)
    c = int(logits.argmax(1))
    logits[0, c].backward()
    maps = []
    for f in feats:
        w = f.grad.mean(dim=(2, 3, 4), keepdim=True)
        cam = F.relu((w * f).sum(1))[0].detach().numpy()
        lo, hi = cam.min(), cam.max()
        maps.append((cam - lo) / (hi - lo) if hi > lo else np.zeros_like(cam))
    return c, maps


@pytest.mark.parametrize("fold", [True, False])
def test_plain_export_gives_one_map_per_application(fold, tmp_path):
    model = randomized()
    t1, stir = torch.randn(1, 1, 6, 10, 12), torch.randn(1, 1, 6, 10, 12)
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(model, (t1, stir), buf, opset_version=13, do_constant_folding=fold,
                          input_names=["t1", "stir"], output_names=["prob"])
    out = tmp_path / "dual.vxm"
    convert.convert_onnx(buf.getvalue(), str(out), input_shapes={"t1": list(t1.shape), "stir": list(stir.shape)})
    cls, ref = torch_gradcam(model, t1, stir)
    with voxinfer.Model(str(out), threads=1) as m:
        maps = m.gradcam([t1.numpy(), stir.numpy()])
    assert len(maps) == 2, f"{len(maps)} map(s); one per application of the shared encoder expected"
    assert maps.target == cls
    for i, (got, want) in enumerate(zip(maps, ref)):
        assert got.shape == want.shape, (i, got.shape, want.shape)
        err = float(np.max(np.abs(np.asarray(got) - want)))
        assert err <= 1e-3, f"map {i}: max abs err {err:.3g}"
