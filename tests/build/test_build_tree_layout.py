"""The build tree is laid out like an install prefix (cmake/BuildTreeLayout.cmake), so
build/bin/voxinfer finds the shipped models with no VOXINFER_MODELS and no --models, and no
source path is compiled into the CLI or the libraries (issue 21, parts 3 and 6)."""
import hashlib
import json
import os
import subprocess

SRC = os.environ["VX_SOURCE_DIR"]
BUILD = os.environ["VX_BUILD_DIR"]
CLI = os.path.join(BUILD, "bin", "voxinfer")
SCANS = os.path.join(SRC, "examples", "data", "spine-cervical-sct")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_exam_from_the_build_tree_finds_the_shipped_models(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "VOXINFER_MODELS"}
    out = tmp_path / "exam"
    p = subprocess.run([CLI, "exam", "--input", os.path.join(SCANS, "t1w.nii.gz"), "--input",
                        os.path.join(SCANS, "t2.nii.gz"), "--out", str(out), "--no-png"],
                       cwd=tmp_path, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    report = json.loads((out / "report.json").read_text())
    models = report["models"]
    # The shipped pipeline file is laid out with the models, and is what ran.
    assert report["pipeline"]["sha256"] == sha256(os.path.join(SRC, "weights", "demo.pipeline.json"))
    assert report["pipeline"]["path"].endswith(os.path.join("share", "voxinfer", "models", "demo.pipeline.json"))
    for role in ("classifier", "denoiser", "segmenter"):
        assert models[role]["sha256"] == sha256(os.path.join(SRC, "weights", f"demo_{role}.vxm")), role


def test_no_source_path_is_compiled_in():
    src = os.path.realpath(SRC).encode()
    for name in ("bin/voxinfer", "libvoxinfer.so", "libvoxinfer_pipeline.so"):
        with open(os.path.join(BUILD, name), "rb") as f:
            assert src not in f.read(), f"{name} contains the source path {src.decode()}"
