"""Shape-dependent Reshape and Resize (issue 18). torch.onnx.export writes x.view(x.shape[0], -1, ...),
F.interpolate(x, size=y.shape[2:]) and nn.GroupNorm as Shape -> Gather -> Unsqueeze -> Concat ->
Reshape / Resize chains; after the first such Reshape onnx 1.12's shape inference loses the shapes,
so weights/convert.py infers the lost ones itself (one node at a time, from the shapes it knows) and
folds every Shape to a constant. Each module here goes through export (opset 13), conversion and the
Python binding, and matches PyTorch eager within max abs err <= 1e-4 * max(1, max |ref|), including
torchvision's LRASPP-MobileNetV3 (random weights and normalisation statistics) on 1x3x224x224."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_parity import check_against_torch

torch.set_num_threads(2)


class BatchView(nn.Module):
    """GroupNorm (torch's Reshape through a run-time Shape), then views whose targets depend on the
    batch size and a resize to another tensor's run-time spatial size."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, padding=1)
        self.gn1, self.gn2 = nn.GroupNorm(2, 8), nn.GroupNorm(4, 8)
        self.d = nn.Conv2d(8, 8, 3, stride=2, padding=1)

    def forward(self, x):
        y = self.gn1(self.c(x))
        z = self.gn2(self.d(y))
        t = z.view(z.shape[0], -1, z.shape[2] * z.shape[3]).transpose(1, 2)
        z = t.reshape(z.shape[0], z.shape[2], z.shape[3], z.shape[1]).permute(0, 3, 1, 2)
        return y + F.interpolate(z, size=y.shape[2:], mode="bilinear", align_corners=False)


class FlattenHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv3d(1, 4, 3, padding=1)
        self.gn = nn.GroupNorm(2, 4)
        self.fc = nn.Linear(4 * 6 * 5 * 4, 3)

    def forward(self, x):
        y = self.gn(self.c(x))
        return self.fc(y.view(y.shape[0], -1)) + F.interpolate(y, size=x.shape[2:]).view(x.shape[0], -1)[:, :3]


@pytest.mark.parametrize("batch", [1, 2])
def test_batch_dependent_reshape_and_resize(batch, tmp_path):
    torch.manual_seed(0)
    ops = check_against_torch(BatchView().eval(), torch.randn(batch, 3, 16, 12), tmp_path, threads=2)
    assert "Shape" not in ops and "Resize" in ops and "Reshape" in ops, ops


def test_flatten_by_batch_after_groupnorm(tmp_path):
    torch.manual_seed(1)
    ops = check_against_torch(FlattenHead().eval(), torch.randn(2, 1, 6, 5, 4), tmp_path, threads=2)
    assert "GroupNormalization" in ops, ops


def test_lraspp_mobilenet_v3_large(tmp_path):
    torchvision = pytest.importorskip("torchvision")
    from models.field_zoo import randomize_norms

    class Out(nn.Module):  # the segmentation models return {"out": ...}
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net(x)["out"]

    torch.manual_seed(0)
    net = torchvision.models.segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None)
    net = randomize_norms(Out(net).eval())
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    ops = check_against_torch(net, x, tmp_path, threads=2)
    assert "Resize" in ops, ops
