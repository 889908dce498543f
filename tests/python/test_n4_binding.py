"""voxinfer.n4 / voxinfer.preprocess_sij (Python over the C API) against the CLI: the binding's N4
equals `voxinfer n4` on the same file and keeps the geometry (nibabel reads back the same affine),
and preprocess_sij equals `voxinfer preprocess`."""
import os
import subprocess

import nibabel as nib
import numpy as np
import pytest

import voxinfer

DATA = os.path.join(os.environ["VX_TEST_DATA_DIR"], "mri")
T1 = os.path.join(DATA, "spine-cervical-sct", "t1", "t1w.nii.gz")
CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")


def test_n4_equals_cli_and_keeps_geometry(tmp_path):
    out = tmp_path / "n4.nii.gz"
    bias = tmp_path / "bias.nii.gz"
    subprocess.run([CLI, "n4", "--input", T1, "--out", str(out), "--bias-out", str(bias), "--shrink", "2",
                    "--iterations", "20,20", "--quiet"], check=True)
    vol = voxinfer.read_volume(T1)
    corrected, field = voxinfer.n4(vol, shrink=2, iterations=(20, 20))
    ref = nib.load(str(out))
    want = np.asarray(ref.get_fdata(), np.float32)
    assert corrected.data.shape == want.shape
    np.testing.assert_allclose(corrected.data, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    np.testing.assert_allclose(field.data, np.asarray(nib.load(str(bias)).get_fdata(), np.float32), rtol=1e-5)
    src = nib.load(T1)
    np.testing.assert_allclose(corrected.affine, src.affine, atol=1e-6)
    np.testing.assert_allclose(field.affine, src.affine, atol=1e-6)
    assert np.isfinite(corrected.data).all() and (field.data > 0).all()
    # written by the binding, read by nibabel: same geometry
    corrected.write(tmp_path / "mine.nii.gz")
    np.testing.assert_allclose(nib.load(str(tmp_path / "mine.nii.gz")).affine, src.affine, atol=1e-5)


def test_n4_otsu_and_errors():
    vol = voxinfer.read_volume(T1)
    c, b = voxinfer.n4(vol, shrink=2, iterations=(5,), otsu=True)
    assert np.isfinite(c.data).all()
    with pytest.raises(ValueError):
        voxinfer.n4(vol, iterations=())
    with pytest.raises(voxinfer.VoxinferError):
        voxinfer.n4(vol, shrink=0)
    zeros = voxinfer.Volume.from_array(np.zeros((8, 8, 8), np.float32))
    with pytest.raises(voxinfer.VoxinferError):
        voxinfer.n4(zeros)


@pytest.mark.parametrize("target", ["denoiser", "classifier"])
def test_preprocess_sij_equals_cli(tmp_path, target):
    out = tmp_path / f"{target}.nii.gz"
    subprocess.run([CLI, "preprocess", "--input", T1, "--out", str(out), "--target", target, "--no-n4", "--quiet"],
                   check=True)
    mine = voxinfer.preprocess_sij(voxinfer.read_volume(T1), target, n4=False)
    ref = nib.load(str(out))
    np.testing.assert_array_equal(mine.data, np.asarray(ref.get_fdata(), np.float32))
    np.testing.assert_allclose(mine.affine, ref.affine, atol=1e-5)
    assert mine.shape == ((192, 192, 20) if target == "denoiser" else (192, 192, 16))
    with pytest.raises(voxinfer.VoxinferError, match="target"):
        voxinfer.preprocess_sij(voxinfer.read_volume(T1), "segmenter")
