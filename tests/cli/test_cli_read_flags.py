"""The reading flags of the CLI and the Python binding. Uneven DICOM slices (series from
gen_dicom_geometry_fixtures.py): `voxinfer n4` refuses a series with a missing slice unless
given --resample-uneven-slices, and then writes its output on the regular grid (nibabel's affine
within 1e-3 mm of the expected one) with a warning on stderr; voxinfer.read_volume refuses it, and
with resample_uneven_slices=True gives scipy's interpolation of the true slices. NaN voxels (a
real volume with NaNs written by nibabel): n4, preprocess and run refuse them, and take them with
--replace-non-finite (the NaN voxels read as 0, as the C API's replace_non_finite)."""
import json
import os
import subprocess

import nibabel as nib
import numpy as np
import pytest

import voxinfer

CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")
FIX = os.path.join(os.environ["VX_FIXTURE_DIR"], "dicom_geometry")
MAN = json.load(open(os.path.join(FIX, "manifest.json")))


def n4(*extra, out):
    return subprocess.run([CLI, "n4", "--input", MAN["missing"]["path"], "--out", str(out), "--shrink", "4",
                           "--iterations", "2", "--quiet", *extra], capture_output=True, text=True, timeout=300)


def test_n4_refuses_an_uneven_series_without_the_flag(tmp_path):
    p = n4(out=tmp_path / "c.nii.gz")
    assert p.returncode != 0
    assert "uneven DICOM slice positions" in p.stderr and "9.600 mm" in p.stderr
    assert "--resample-uneven-slices" in p.stderr
    assert not (tmp_path / "c.nii.gz").exists()


def test_n4_with_the_flag_writes_on_the_regular_grid_and_warns(tmp_path):
    p = n4("--resample-uneven-slices", out=tmp_path / "c.nii.gz")
    assert p.returncode == 0, p.stderr
    assert "warning" in p.stderr and "resampled onto a regular grid" in p.stderr
    img = nib.load(tmp_path / "c.nii.gz")
    d, h, w = MAN["missing"]["shape_dhw"]
    assert img.shape == (w, h, d)
    np.testing.assert_allclose(img.affine, np.array(MAN["missing"]["affine"]).reshape(4, 4), atol=1e-3)


@pytest.mark.parametrize("name", ["missing", "gaps"])
def test_python_read_volume_refuses_then_resamples(name):
    e = MAN[name]
    with pytest.raises(voxinfer.VoxinferError, match="uneven DICOM slice positions"):
        voxinfer.read_volume(e["path"])
    v = voxinfer.read_volume(e["path"], resample_uneven_slices=True)
    ref = np.fromfile(e["ref"], "<f4").reshape(e["shape_dhw"]).transpose(2, 1, 0)   # [i, j, k]
    np.testing.assert_allclose(np.asarray(v.data), ref, atol=1e-3 * max(1.0, np.abs(ref).max()))
    np.testing.assert_allclose(v.affine, np.array(e["affine"]).reshape(4, 4), atol=1e-4)


DATA = os.path.join(os.environ["VX_TEST_DATA_DIR"], "mri")


def nan_scan(tmp_path):
    src = nib.load(os.path.join(DATA, "brain-t1-tiny-monai", "anatomical.nii"))
    x = np.asarray(src.get_fdata(), np.float32)
    x[3, 4, 5] = np.nan
    x[10, 11, 12] = np.inf
    nib.Nifti1Image(x, src.affine).to_filename(tmp_path / "nan.nii.gz")
    return str(tmp_path / "nan.nii.gz"), x


def test_replace_non_finite_on_n4_and_preprocess(tmp_path):
    scan, x = nan_scan(tmp_path)
    for cmd in (["n4", "--shrink", "2", "--iterations", "2"], ["preprocess", "--target", "classifier", "--no-n4"]):
        out = tmp_path / f"{cmd[0]}.nii.gz"
        p = subprocess.run([CLI, cmd[0], "--input", scan, "--out", str(out), *cmd[1:], "--quiet"], capture_output=True, text=True)
        assert p.returncode != 0 and "NaN/Inf" in p.stderr and not out.exists(), p.stderr
        p = subprocess.run([CLI, cmd[0], "--input", scan, "--out", str(out), *cmd[1:], "--quiet", "--replace-non-finite"],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert np.isfinite(nib.load(out).get_fdata()).all()
    # n4 leaves voxels <= 0 as they are: the replaced voxels are 0 in its output.
    c = nib.load(tmp_path / "n4.nii.gz").get_fdata()
    assert c[3, 4, 5] == 0 and c[10, 11, 12] == 0


def test_run_reports_the_resampling_in_summary_json(tmp_path):
    model = os.path.join(os.environ["VX_FIXTURE_DIR"], "hostile", "smooth3d.vxm")  # 3x3x3 conv, no fixed grid
    args = [CLI, "run", "--model", model, "--input", MAN["gaps"]["path"], "--quiet"]
    p = subprocess.run(args + ["--out", str(tmp_path / "no")], capture_output=True, text=True, timeout=300)
    assert p.returncode != 0 and "uneven DICOM slice positions" in p.stderr and not (tmp_path / "no").exists()
    p = subprocess.run(args + ["--out", str(tmp_path / "yes"), "--resample-uneven-slices"], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    summary = json.load(open(tmp_path / "yes" / "summary.json"))
    (w,) = summary["inputs"][0]["warnings"]
    assert "resampled onto a regular grid" in w and "4.500 mm" in w and w in p.stderr
    d, h, wd = MAN["gaps"]["shape_dhw"]
    assert summary["inputs"][0]["size_ijk"] == [wd, h, d]
