"""The architectures the field trains (weights/models/field_zoo.py: torchvision's video ResNets,
S3D, ResNet-50, DenseNet121, EfficientNet-B0, MobileNetV3, FCN, DeepLabV3, LRASPP; an nnU-Net
3d_fullres-style PlainConvUNet; MONAI-style UNet, SegResNet and DenseNet121-3D), random weights with random
normalisation statistics, exported by torch.onnx.export (opset 13), converted, and run through
the Python binding, equal to PyTorch: max abs error <= 1e-4 x max(1, max|ref|).

A model with an op the converter (or the engine's loader) does not know yet skips with its
message (naming the op and node), so it turns into a pass when the op lands; any other failure
fails."""
import numpy as np
import pytest
import torch

import convert
import voxinfer
from models.field_zoo import FIELD_MODELS, build_field_model

torch.set_num_threads(2)


@pytest.mark.parametrize("name", sorted(FIELD_MODELS))
def test_field_model_equals_torch(name, tmp_path):
    net = build_field_model(name)
    shape = FIELD_MODELS[name][2]
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    out = str(tmp_path / f"{name}.vxm")
    try:
        convert.convert_torch(net, (x,), out)
    except convert.ConvertError as e:
        pytest.skip(f"{name}: not convertible on this branch: {e}")
    with torch.no_grad():
        ref = net(x).numpy()
    try:
        m = voxinfer.Model(out, threads=2)
    except voxinfer.VoxinferError as e:  # converted, but the engine lacks the op (VX_ERR_UNSUPPORTED)
        if "unknown op" not in str(e):
            raise
        pytest.skip(f"{name}: the engine does not run it on this branch: {e}")
    with m:
        got = m.run(x.numpy())
    assert got.shape == ref.shape
    err, tol = float(np.abs(got - ref).max()), 1e-4 * max(1.0, float(np.abs(ref).max()))
    assert err <= tol, f"{name}: max abs error {err:.3g} > {tol:.3g}"
