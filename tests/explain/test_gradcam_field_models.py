"""Grad-CAM through the ops of the networks the field trains, against PyTorch autograd: MONAI's
DenseNet121 in 3-D (weights/models/monai_densenet.py: BN-ReLU-conv dense layers, concatenations,
average-pool transitions) and a MONAI-style 3-D classifier of Conv-InstanceNorm-PReLU blocks.
Random weights and normalisation statistics; torch.onnx.export (opset 13), weights/convert.py with
no metadata, the engine's default layer (the input of the global pool) and class (the predicted
one). The maps (resized to the input with align_corners, clamped at 0, min-max normalised, as
tests/explain/gen_gradcam_fixtures.py defines them) must agree within 1e-3 max abs."""
import io

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import convert
import voxinfer
from models.field_zoo import randomize_norms
from models.monai_densenet import densenet121

torch.set_num_threads(2)


class InPreluClassifier(nn.Module):
    """MONAI's Classifier/Regressor building block, Convolution(strides=2) + InstanceNorm(affine)
    + PReLU, four times, then global average pooling and a linear layer."""

    def __init__(self, chans=(8, 16, 16, 32), classes=3):
        super().__init__()
        blocks, cin = [], 1
        for i, c in enumerate(chans):
            blocks += [nn.Conv3d(cin, c, 3, stride=2 if i < 3 else 1, padding=1),
                       nn.InstanceNorm3d(c, affine=True), nn.PReLU(c)]
            cin = c
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(1), nn.Linear(cin, classes))

    def forward(self, x):
        return self.head(self.features(x))


def torch_gradcam(features, head, x):
    acts = features(x)
    acts.retain_grad()
    logits = head(acts)
    c = int(logits.argmax(1))
    logits[0, c].backward()
    w = acts.grad.mean(dim=(2, 3, 4), keepdim=True)
    cam = (w * acts).sum(1, keepdim=True).detach()
    m = F.interpolate(cam, size=x.shape[2:], mode="trilinear", align_corners=True).clamp(min=0)
    lo, hi = m.min(), m.max()
    return c, ((m - lo) / (hi - lo))[0, 0].numpy()


def densenet121_3d():
    net = densenet121(3, 1, 2)
    # Random classifier weights make every class's map negative everywhere (the features are
    # post-ReLU): a map of zeros compares nothing. Positive weights, as for a class the
    # features speak for, give maps with structure.
    net.class_layers.out.weight.data.abs_()
    return net


def densenet_parts(net):
    """The default layer is the global pool's input: class_layers.relu's output."""
    return nn.Sequential(net.features, net.class_layers.relu), net.class_layers[1:]


def classifier_parts(net):
    return net.features, net.head


CASES = {
    "monai_densenet121_3d": (densenet121_3d, densenet_parts, (1, 1, 64, 64, 64)),
    "instancenorm_prelu_classifier_3d": (InPreluClassifier, classifier_parts, (1, 1, 32, 32, 32)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcam_equals_autograd(name, tmp_path):
    make, parts, shape = CASES[name]
    torch.manual_seed(0)
    net = randomize_norms(make().eval())
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(net, (x,), buf, opset_version=13, input_names=["input"], output_names=["logits"])
    out = tmp_path / f"{name}.vxm"
    convert.convert_onnx(buf.getvalue(), str(out), input_shapes={"input": list(shape)})
    cls, ref = torch_gradcam(*parts(net), x.clone().requires_grad_(True))
    with voxinfer.Model(str(out), threads=2) as m:
        maps = m.gradcam(x.numpy(), align_corners=True)
    assert len(maps) == 1 and maps.target == cls, (len(maps), maps.target, cls)
    assert maps.raw_max[0] > 0 and np.isfinite(ref).all(), "degenerate map: nothing to compare"
    got = np.asarray(maps[0])
    assert got.shape == ref.shape
    err = float(np.max(np.abs(got - ref)))
    assert err <= 1e-3, f"{name}: max abs err {err:.3g} between the Grad-CAM maps"
