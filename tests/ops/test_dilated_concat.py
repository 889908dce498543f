"""A 3x3 convolution with dilation above 16 whose output feeds a Concat (DeepLabV3's ASPP):
the layout pass gives it the blocked16 layout, on which oneDNN has only its reference kernel
for such dilations; the engine then lets oneDNN choose the layouts and reorders around the
primitive. Checked: the output equals PyTorch's (1e-4 x max(1, max|ref|)), and oneDNN's own
verbose log (ONEDNN_VERBOSE=1, in a subprocess) shows no reference ("ref:") convolution."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import convert
import voxinfer


class DilatedConcat(torch.nn.Module):
    """Two ASPP branches (dilations 24 and 36) and a 1x1 branch, concatenated."""

    def __init__(self, ci=32, co=16):
        super().__init__()
        self.b1 = torch.nn.Conv2d(ci, co, 1)
        self.d24 = torch.nn.Conv2d(ci, co, 3, padding=24, dilation=24)
        self.d36 = torch.nn.Conv2d(ci, co, 3, padding=36, dilation=36)

    def forward(self, x):
        return torch.cat([self.b1(x), torch.relu(self.d24(x)), self.d36(x)], dim=1)


def build(tmp_path):
    torch.manual_seed(0)
    m = DilatedConcat().eval()
    x = torch.randn(1, 32, 40, 40)
    out = str(tmp_path / "dilated_concat.vxm")
    convert.convert_torch(m, (x,), out)
    with torch.no_grad():
        ref = m(x).numpy()
    return out, x.numpy(), ref


def test_dilated_concat_equals_torch(tmp_path):
    path, x, ref = build(tmp_path)
    with voxinfer.Model(path, threads=1) as vx:
        got = vx.run(x)
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() <= 1e-4 * max(1.0, float(np.abs(ref).max()))


RUN = """
import sys, numpy as np, voxinfer
with voxinfer.Model(sys.argv[1], threads=1) as m:
    m.run(np.load(sys.argv[2]))
"""


def test_dilated_concat_uses_no_reference_kernel(tmp_path):
    path, x, _ = build(tmp_path)
    np.save(tmp_path / "x.npy", x)
    env = dict(os.environ, ONEDNN_VERBOSE="1", DNNL_VERBOSE="1")
    r = subprocess.run([sys.executable, "-c", RUN, path, str(tmp_path / "x.npy")], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    convs = [l for l in r.stdout.splitlines() if "convolution" in l and ",exec," in l]
    if not convs:
        pytest.skip("this oneDNN build writes no verbose log (DNNL_ENABLE_VERBOSE off)")
    # The 1x1 branch and both dilated branches ran through oneDNN, none on its reference kernel.
    assert len(convs) >= 3, r.stdout
    assert not [l for l in convs if ",ref:" in l or ",ref_" in l], "\n".join(convs)
