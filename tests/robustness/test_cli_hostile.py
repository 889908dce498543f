"""Every hostile file through the `voxinfer` command: a non-zero exit, a message on stderr,
and nothing left in the output folder. The valid control file runs and writes its outputs."""
import json
import os
import subprocess

import nibabel as nib
import numpy as np
import pytest

FIX = os.path.join(os.environ["VX_FIXTURE_DIR"], "hostile")
CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")
MANIFEST = json.load(open(os.path.join(FIX, "manifest.json")))


def run(args, tmp_path):
    out = tmp_path / "out"
    p = subprocess.run([CLI, *args, "--out", str(out), "--quiet"], capture_output=True, text=True, timeout=120)
    return p, out


def test_valid_control_runs_and_keeps_geometry(tmp_path):
    p, out = run(["run", "--model", os.path.join(FIX, MANIFEST["model"]), "--input", os.path.join(FIX, MANIFEST["valid"])],
                 tmp_path)
    assert p.returncode == 0, p.stderr
    res = nib.load(out / "out.nii.gz")
    src = nib.load(os.path.join(FIX, MANIFEST["valid"]))
    assert res.shape == src.shape
    np.testing.assert_allclose(res.affine, src.affine, atol=1e-5)
    assert json.load(open(out / "summary.json"))["files"]


def test_there_are_enough_hostile_files():
    assert len(MANIFEST["cases"]) >= 50


@pytest.mark.parametrize("case", MANIFEST["cases"], ids=[c["file"] for c in MANIFEST["cases"]])
def test_hostile_file_is_refused_cleanly(case, tmp_path):
    f = os.path.join(FIX, case["file"])
    if case["kind"] == "model":
        args = ["run", "--model", f, "--input", os.path.join(FIX, MANIFEST["valid"])]
    else:
        args = ["run", "--model", os.path.join(FIX, MANIFEST["model"]), "--input", f]
    p, out = run(args, tmp_path)
    assert p.returncode != 0, f"{case['why']}: accepted"
    assert p.returncode < 128, f"{case['why']}: killed by a signal ({p.returncode})"
    assert "error" in p.stderr and len(p.stderr.strip()) > 20, f"{case['why']}: no clear message: {p.stderr!r}"
    assert not out.exists() or not any(out.iterdir()), f"{case['why']}: left {list(out.iterdir())}"
