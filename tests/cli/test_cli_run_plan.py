"""A model's declared preprocessing plan is what `voxinfer run` applies by default (issue 19,
item 4); `--no-preprocessing` gives the plain resize + metadata normalisation; the general C
call vx_volume_preprocess (voxinfer.preprocess) runs any plan. Oracle: PyTorch on nibabel's
reading of a real scan: F.interpolate (trilinear, align_corners=True) to the model grid, then
z-score (ddof 0) for the plan, division by the maximum for the metadata normalisation, and the
same module's forward pass. Tolerance: probabilities within 1e-4, volumes within 1e-4 of the
largest value."""
import json
import os
import subprocess

import nibabel as nib
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import voxinfer
from convert import convert_torch

CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")
SCAN = os.path.join(os.environ["VX_TEST_DATA_DIR"], "mri", "spine-cervical-sct", "t1", "t1w.nii.gz")
GRID = (8, 16, 16)  # D, H, W of the model input
PLAN = [{"op": "resize", "size": [GRID[2], GRID[1], GRID[0]], "interp": "linear", "align_corners": True},
        {"op": "zscore"}]


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv3d(1, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool3d(F.relu(self.conv(x)), 1).flatten(1))


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    net = Tiny().eval()
    path = tmp_path_factory.mktemp("m") / "tiny_plan.vxm"
    meta = {"inputs": [{"name": "input", "normalisation": {"method": "max"}}],
            "outputs": [{"name": "output", "kind": "logits", "classes": ["a", "b", "c"], "activation": "softmax"}],
            "preprocessing": {"plan": PLAN}}
    convert_torch(net, torch.zeros(1, 1, *GRID), str(path), metadata=meta)
    return net, str(path)


def scan_dhw():
    x = np.asarray(nib.load(SCAN).get_fdata(), np.float32)  # [i, j, k]
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 1, 0)))[None, None]  # [1, 1, k, j, i]


def torch_probs(net, x):
    with torch.no_grad():
        return torch.softmax(net(x), dim=1)[0].numpy()


def run(model_path, tmp_path, *extra):
    out = tmp_path / "out"
    p = subprocess.run([CLI, "run", "--model", model_path, "--input", SCAN, "--out", str(out), "--quiet", *extra],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads((out / "summary.json").read_text())


def test_run_applies_the_declared_plan(model, tmp_path):
    net, path = model
    x = F.interpolate(scan_dhw(), size=GRID, mode="trilinear", align_corners=True)
    x = (x - x.mean()) / x.std(unbiased=False)
    summary = run(path, tmp_path)
    assert summary["preprocessing"]["plan"][0]["op"] == "resize" and summary["preprocessing"]["plan"][1]["op"] == "zscore"
    np.testing.assert_allclose(summary["outputs"][0]["probabilities"], torch_probs(net, x), atol=1e-4)


def test_no_preprocessing_uses_resize_and_the_metadata_normalisation(model, tmp_path):
    net, path = model
    x = F.interpolate(scan_dhw(), size=GRID, mode="trilinear", align_corners=True)
    x = x / x.max()
    summary = run(path, tmp_path, "--no-preprocessing")
    assert summary["preprocessing"]["plan"] is None and summary["preprocessing"]["declared"] is True
    got = summary["outputs"][0]["probabilities"]
    np.testing.assert_allclose(got, torch_probs(net, x), atol=1e-4)
    # The two paths differ (so the first test can tell them apart).
    xz = F.interpolate(scan_dhw(), size=GRID, mode="trilinear", align_corners=True)
    xz = (xz - xz.mean()) / xz.std(unbiased=False)
    assert np.abs(np.array(got) - torch_probs(net, xz)).max() > 1e-3


def test_python_preprocess_runs_a_plan_and_refuses_a_bad_one():
    v = voxinfer.read_volume(SCAN)
    out = voxinfer.preprocess(v, PLAN)
    ref = F.interpolate(scan_dhw(), size=GRID, mode="trilinear", align_corners=True)
    ref = ((ref - ref.mean()) / ref.std(unbiased=False))[0, 0].numpy().transpose(2, 1, 0)  # [i, j, k]
    assert out.data.shape == ref.shape
    np.testing.assert_allclose(out.data, ref, atol=1e-4 * np.abs(ref).max())
    assert voxinfer.preprocess(v, {"plan": PLAN}).data.shape == ref.shape  # a "preprocessing" block
    before = v.data.copy()
    with pytest.raises(voxinfer.VoxinferError, match="sharpen"):
        voxinfer.preprocess(v, [{"op": "sharpen"}])
    with pytest.raises(voxinfer.VoxinferError, match="siez"):
        voxinfer.preprocess(v, [{"op": "resize", "siez": [4, 4, 4]}])
    with pytest.raises(voxinfer.VoxinferError, match="JSON"):
        voxinfer.preprocess(v, "[{")
    np.testing.assert_array_equal(v.data, before)  # the caller's volume is untouched


def test_a_plan_ending_off_the_model_grid_is_refused(tmp_path):
    net = Tiny().eval()
    path = tmp_path / "bad_plan.vxm"
    meta = {"preprocessing": {"plan": [{"op": "resize", "size": [8, 8, 8], "interp": "linear"}]}}
    convert_torch(net, torch.zeros(1, 1, *GRID), str(path), metadata=meta)
    p = subprocess.run([CLI, "run", "--model", str(path), "--input", SCAN, "--out", str(tmp_path / "o"), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode != 0 and "preprocessing plan ends on" in p.stderr
    assert not (tmp_path / "o").exists()
