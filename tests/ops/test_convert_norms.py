"""InstanceNorm, GroupNorm and PReLU as torch modules write them (nn.InstanceNorm1d/2d/3d with and
without affine, nn.GroupNorm through torch's opset-13 Reshape-InstanceNorm-Reshape-Mul-Add (fused into one
GroupNormalization by the converter),
nn.PReLU per channel and with one slope) go through torch.onnx.export, weights/convert.py and the
Python binding, and match PyTorch eager within max abs err <= 1e-4 * max(1, max |ref|). The
Conv -> InstanceNorm -> LeakyReLU / PReLU chains of nnU-Net and MONAI are checked with the
activation fused into the norm, on inputs large enough for the blocked layout."""
import numpy as np
import pytest
import torch
import torch.nn as nn

import convert
import voxinfer
from torch_parity import check_against_torch, export_onnx

torch.set_num_threads(1)


def randomize(module, seed=0):
    """Non-trivial affine parameters and PReLU slopes (torch initialises them to 1, 0 and 0.25)."""
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d, nn.GroupNorm)) and m.affine:
            m.weight.data = torch.rand(m.weight.shape, generator=g) + 0.5
            m.bias.data = torch.randn(m.bias.shape, generator=g) * 0.3
        if isinstance(m, nn.PReLU):
            m.weight.data = torch.rand(m.weight.shape, generator=g) * 0.6 - 0.1
    return module.eval()


def check(module, x, tmp_path, opset=13):
    return check_against_torch(module, x, tmp_path, opset=opset, threads=2)


class Block(nn.Module):
    """conv -> norm -> activation -> conv (the norm between two computed tensors)."""

    def __init__(self, dims, cin, c, norm, act):
        super().__init__()
        if dims == 1:  # the engine has no 1-D convolution: the norm between elementwise ops
            self.c1, self.c2 = nn.Identity(), nn.Identity()
        else:
            conv = {2: nn.Conv2d, 3: nn.Conv3d}[dims]
            self.c1, self.c2 = conv(cin, c, 3, padding=1), conv(c, 3, 1)
        self.norm, self.act = norm, act

    def forward(self, x):
        return self.c2(self.act(self.norm(self.c1(x) * 2 + 0.5)))


CASES = {
    "in1d_affine": (1, nn.InstanceNorm1d(3, affine=True), nn.Identity(), (2, 3, 40)),
    "in2d_plain": (2, nn.InstanceNorm2d(8), nn.ReLU(), (2, 3, 11, 13)),
    "in3d_affine_leaky": (3, nn.InstanceNorm3d(16, affine=True), nn.LeakyReLU(0.01), (1, 2, 12, 10, 9)),
    "in3d_prelu_channel": (3, nn.InstanceNorm3d(16, affine=True), nn.PReLU(16), (2, 2, 8, 9, 7)),
    "in3d_prelu_scalar": (3, nn.InstanceNorm3d(32), nn.PReLU(), (1, 2, 10, 10, 10)),
    "gn2d": (2, nn.GroupNorm(4, 16), nn.ReLU(), (2, 3, 9, 10)),
    "gn3d": (3, nn.GroupNorm(8, 32), nn.ReLU(), (1, 2, 8, 8, 6)),
    "prelu_only": (2, nn.Identity(), nn.PReLU(16), (2, 3, 7, 9)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_norm_matches_torch(name, tmp_path):
    torch.manual_seed(0)
    dims, norm, act, shape = CASES[name]
    c = 16 if name in ("prelu_only",) else (norm.num_channels if isinstance(norm, nn.GroupNorm) else norm.num_features)
    module = randomize(Block(dims, shape[1], c, norm, act))
    ops = check(module, torch.randn(*shape), tmp_path)
    if "gn" in name:  # torch's Reshape-InstanceNorm-Reshape-Mul-Add, fused by the converter
        assert ops.count("GroupNormalization") == 1 and "InstanceNormalization" not in ops, ops
        assert "Reshape" not in ops and ops.count("Mul") == ops.count("Add") == 1, ops  # the block's own x * 2 + 0.5
    elif "prelu_only" == name:
        assert "PRelu" in ops, ops
    else:
        assert "InstanceNormalization" in ops, ops


def test_nnunet_style_stage_at_blocked_sizes(tmp_path):
    """Two Conv -> InstanceNorm(affine) -> LeakyReLU(0.01) blocks at 32 channels, as nnU-Net's
    PlainConvUNet stages are: the blocked16 path with the activation fused into the norm."""
    torch.manual_seed(1)
    m = nn.Sequential(nn.Conv3d(1, 32, 3, padding=1), nn.InstanceNorm3d(32, affine=True), nn.LeakyReLU(0.01),
                      nn.Conv3d(32, 32, 3, padding=1), nn.InstanceNorm3d(32, affine=True), nn.LeakyReLU(0.01),
                      nn.Conv3d(32, 2, 1))
    check(randomize(m), torch.randn(2, 1, 24, 20, 16), tmp_path)


def test_monai_style_unit_with_prelu(tmp_path):
    torch.manual_seed(2)
    m = nn.Sequential(nn.Conv3d(1, 16, 3, padding=1), nn.InstanceNorm3d(16), nn.PReLU(),
                      nn.Conv3d(16, 16, 3, stride=2, padding=1), nn.InstanceNorm3d(16), nn.PReLU(),
                      nn.Conv3d(16, 2, 1))
    check(randomize(m), torch.randn(1, 1, 16, 16, 16), tmp_path)


def test_instance_norm_over_one_voxel_is_refused(tmp_path):
    """torch refuses it too ('Expected more than 1 spatial element'): no variance to divide by."""
    m = Block(3, 2, 8, nn.InstanceNorm3d(8, affine=True), nn.Identity()).eval()
    x = torch.randn(1, 2, 4, 4, 4)
    out = tmp_path / "m.vxm"
    convert.convert_onnx(export_onnx(m, x), str(out), input_shapes={"input": [1, 2, 1, 1, 1]})
    with pytest.raises(voxinfer.VoxinferError, match="single value"):
        with voxinfer.Model(str(out), threads=1) as model:
            model.run(np.zeros((1, 2, 1, 1, 1), np.float32))


def test_group_norm_pattern_with_a_second_reader_is_not_fused(tmp_path):
    """The normalised tensor before the affine step is read twice: the converter must keep the
    pattern as it is, and the result stays exact."""
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 8, 3, padding=1)

        def forward(self, x):
            y = self.conv(x)
            n = torch.nn.functional.group_norm(y, 2)
            return n * 1.5 + n

    torch.manual_seed(3)
    ops = check(Twice().eval(), torch.randn(1, 2, 6, 7), tmp_path)
    assert "GroupNormalization" not in ops and "InstanceNormalization" in ops, ops
