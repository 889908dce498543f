"""examples/c/gradcam_volume.c (compiled here as strict C99 against the public header) and
examples/python/gradcam_volume.py run on a real scan with the fixture 3-D ResNet: the Grad-CAM map
they write has the scan's grid and geometry (nibabel) and equals the binding's map."""
import os
import subprocess
import sys

import nibabel as nib
import numpy as np

SRC = os.environ["VX_SOURCE_DIR"]
LIB = os.environ["VOXINFER_LIBRARY"]
FX = os.path.join(os.environ["VX_FIXTURE_DIR"], "volcam")
SCAN = os.path.join(os.environ["VX_TEST_DATA_DIR"], "mri", "spine-cervical-sct", "t1", "t1w.nii.gz")
MODEL = os.path.join(FX, "resnet3d.vxm")


def check_map(path):
    scan, cam = nib.load(SCAN), nib.load(path)
    assert cam.shape == scan.shape
    np.testing.assert_allclose(cam.affine, scan.affine, atol=1e-5)
    m = cam.get_fdata()
    assert m.min() == 0 and m.max() == 1
    return m


def test_c_example(tmp_path):
    exe = tmp_path / "gradcam_volume"
    subprocess.run(["cc", "-std=c99", "-pedantic", "-Werror", "-Wall", "-Wextra", "-I", os.path.join(SRC, "include"),
                    os.path.join(SRC, "examples", "c", "gradcam_volume.c"), "-o", str(exe), "-L", os.path.dirname(LIB),
                    "-Wl,-rpath," + os.path.dirname(LIB), "-l:" + os.path.basename(LIB)], check=True)
    p = subprocess.run([str(exe), MODEL, SCAN, str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "42 x 76 x 77" in p.stdout and "output:" in p.stdout
    m = check_map(tmp_path / "gradcam.nii.gz")
    import voxinfer  # the same map through the Python binding (no normalisation in the C example)
    scan = voxinfer.read_volume(SCAN)
    maps = voxinfer.Model(MODEL).gradcam([np.ascontiguousarray(scan.data.T)[None, None]])
    assert np.array_equal(m.astype(np.float32), maps[0].T)
    p = subprocess.run([str(exe), MODEL, str(tmp_path / "missing.nii"), str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 1 and "missing.nii" in p.stderr


def test_python_example(tmp_path):
    env = dict(os.environ)
    p = subprocess.run([sys.executable, os.path.join(SRC, "examples", "python", "gradcam_volume.py"), MODEL, SCAN,
                        str(tmp_path)], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    check_map(tmp_path / "gradcam.nii.gz")
    assert "class" in p.stdout
