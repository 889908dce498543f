"""`voxinfer run` on real scans: the output lines up with the input (same shape and affine, as
nibabel reads them) and its values equal an independent SciPy computation; `voxinfer info`
reports the file's SHA-256; `voxinfer n4` keeps the geometry."""
import hashlib
import json
import os
import subprocess

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

import vxm

CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")
MODEL = os.path.join(os.environ["VX_FIXTURE_DIR"], "hostile", "smooth3d.vxm")  # 3x3x3 conv, 1 -> 1 channel
DATA = os.path.join(os.environ["VX_TEST_DATA_DIR"], "mri")
SCANS = ["spine-cervical-sct/t2/t2.nii.gz",          # P-S-R, qfac -1, qform 2 / sform 1
         "spine-cervical-sct/t1/t1w.nii.gz",         # RAS
         "orientation-icbm152-48/AIL.nii.gz",
         "brain-t1-tiny-monai/anatomical.nii"]       # big-endian


def cli(*args):
    p = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return p


@pytest.mark.parametrize("scan", SCANS)
def test_run_output_on_the_input_grid_equals_scipy(scan, tmp_path):
    src = nib.load(os.path.join(DATA, scan))
    cli("run", "--model", MODEL, "--input", os.path.join(DATA, scan), "--out", str(tmp_path), "--quiet")
    out = nib.load(tmp_path / "out.nii.gz")
    assert out.shape == src.shape
    np.testing.assert_allclose(out.affine, src.affine, atol=1e-5)
    # Engine tensors are [k, j, i]; in nibabel's [i, j, k] order the kernel is transposed.
    w = vxm.read(MODEL)["tensors"]["w"][0, 0].transpose(2, 1, 0).astype(np.float64)
    x = np.asarray(src.get_fdata(), np.float64)
    ref = ndimage.correlate(x, w, mode="constant", cval=0.0)
    np.testing.assert_allclose(out.get_fdata(), ref, atol=1e-4 * max(1.0, np.abs(ref).max()))
    summary = json.load(open(tmp_path / "summary.json"))
    assert summary["model"]["sha256"] == hashlib.sha256(open(MODEL, "rb").read()).hexdigest()


def test_info_reports_sha256():
    p = cli("info", MODEL, "--json")
    assert json.loads(p.stdout)["sha256"] == hashlib.sha256(open(MODEL, "rb").read()).hexdigest()


def test_wrong_expected_hash_is_refused(tmp_path):
    p = subprocess.run([CLI, "run", "--model", MODEL, "--expect-sha256", "0" * 64, "--input",
                        os.path.join(DATA, SCANS[0]), "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert p.returncode != 0 and "sha" in p.stderr.lower() and not (tmp_path / "o").exists()


def test_n4_keeps_geometry(tmp_path):
    scan = os.path.join(DATA, SCANS[1])
    cli("n4", "--input", scan, "--out", str(tmp_path / "c.nii.gz"), "--bias-out", str(tmp_path / "b.nii.gz"),
        "--shrink", "2", "--iterations", "10,10", "--quiet")
    src, c, b = nib.load(scan), nib.load(tmp_path / "c.nii.gz"), nib.load(tmp_path / "b.nii.gz")
    for img in (c, b):
        assert img.shape == src.shape
        np.testing.assert_allclose(img.affine, src.affine, atol=1e-5)
    x, field, corrected = src.get_fdata(), b.get_fdata(), c.get_fdata()
    assert np.isfinite(corrected).all() and (field > 0).all()
    pos = x > 0
    np.testing.assert_allclose(corrected[pos], x[pos] / field[pos], rtol=1e-4)
