"""`voxinfer exam` runs a pipeline file (weights/FORMAT.md, issue 19 item 4).

- The shipped weights/demo.pipeline.json is what `--models weights` runs: report.json records
  the file and its SHA-256 (hashlib of the file, the oracle), the chain that ran on each input
  (resize, clip at p99, N4) with a time per step.
- Where the chain is the one the exam ran before pipelines (a plain resize to the network grid),
  a pipeline gives the same results as the built-in chain on a folder with no pipeline file
  (identical probabilities, lesion mask, Grad-CAM and denoised volumes).
- A wrong hash, an unknown step, an undeclared input, a missing model file, a plan ending on the
  wrong grid: exit code non-zero, a message naming the item, and the output folder absent (or,
  when it existed, untouched).
"""
import copy
import hashlib
import json
import os
import subprocess
import time

import nibabel as nib
import numpy as np
import pytest

CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")
WEIGHTS = os.path.join(os.environ["VX_SOURCE_DIR"], "weights")
SCANS = os.path.join(os.environ["VX_SOURCE_DIR"], "examples", "data", "spine-cervical-sct")
INPUTS = ["--input", os.path.join(SCANS, "t1w.nii.gz"), "--input", os.path.join(SCANS, "t2.nii.gz")]
MODELS = ["demo_denoiser.vxm", "demo_classifier.vxm", "demo_segmenter.vxm"]


def exam(*args):
    t0 = time.monotonic()
    p = subprocess.run([CLI, "exam", *INPUTS, "--quiet", "--threads", "2", *args], capture_output=True, text=True)
    return p, time.monotonic() - t0


def shipped():
    with open(os.path.join(WEIGHTS, "demo.pipeline.json")) as f:
        return json.load(f)


def model_folder(tmp_path, name, pipeline=None):
    d = tmp_path / name
    d.mkdir()
    for m in MODELS:
        os.symlink(os.path.join(WEIGHTS, m), d / m)
    if pipeline is not None:
        (d / "p.pipeline.json").write_text(json.dumps(pipeline, indent=2))
    return d


def test_shipped_pipeline_runs_the_published_chain(tmp_path):
    out = tmp_path / "out"
    p, wall = exam("--models", WEIGHTS, "--out", str(out))
    assert p.returncode == 0, p.stderr
    rep = json.loads((out / "report.json").read_text())
    pf = os.path.join(WEIGHTS, "demo.pipeline.json")
    with open(pf, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert rep["pipeline"]["file"] == "demo.pipeline.json"
    assert rep["pipeline"]["sha256"] == digest
    assert rep["pipeline"]["steps"] == ["denoise", "classify", "segment", "postprocess"]
    for i, seq in enumerate(["T1", "STIR"]):
        entry = rep["pipeline"]["inputs"][i]
        assert entry["sequence"] == seq
        ops = [s["op"] for s in entry["preprocessing"]]
        assert ops == ["resize", "clip_percentile", "n4"]
        assert [s["op"] for s in entry["step_ms"]] == ops and all(s["ms"] >= 0 for s in entry["step_ms"])
    for name, m in rep["models"].items():
        with open(os.path.join(WEIGHTS, f"demo_{name}.vxm"), "rb") as f:
            assert m["sha256"] == hashlib.sha256(f.read()).hexdigest()
    assert "lesion_mask.nii.gz" in rep["outputs"] and "t1_gradcam.png" in rep["outputs"]
    print(f"exam with demo.pipeline.json (N4 on both inputs): {wall:.2f} s wall, timings {rep['timings_s']}")


def test_same_chain_same_result(tmp_path):
    plain = copy.deepcopy(shipped())
    for entry in plain["inputs"]:
        entry["preprocessing"] = [s for s in entry["preprocessing"] if s["op"] == "resize"]
    with_pipeline = model_folder(tmp_path, "with", plain)
    without = model_folder(tmp_path, "without")
    p1, _ = exam("--models", str(with_pipeline), "--out", str(tmp_path / "a"), "--no-png")
    assert p1.returncode == 0, p1.stderr
    p2, _ = exam("--models", str(without), "--out", str(tmp_path / "b"), "--no-png")
    assert p2.returncode == 0, p2.stderr
    ra = json.loads((tmp_path / "a" / "report.json").read_text())
    rb = json.loads((tmp_path / "b" / "report.json").read_text())
    assert "pipeline" in ra and "pipeline" not in rb
    assert ra["pipeline"]["file"] == "p.pipeline.json"
    assert ra["classification"]["probabilities"] == rb["classification"]["probabilities"]
    for k in ("lesion_volume_ml", "lesion_components", "lesion_score"):
        assert ra["segmentation"][k] == rb["segmentation"][k]
    assert sorted(ra["outputs"]) == sorted(rb["outputs"])
    for f in ("lesion_mask.nii.gz", "t1_gradcam.nii.gz", "stir_gradcam.nii.gz", "t1_denoised.nii.gz", "stir_denoised.nii.gz"):
        a = np.asanyarray(nib.load(tmp_path / "a" / f).dataobj)
        b = np.asanyarray(nib.load(tmp_path / "b" / f).dataobj)
        assert np.array_equal(a, b), f


def test_n4_changes_what_the_networks_see(tmp_path):
    """The N4 step really runs: the denoised volumes differ from the plain chain's."""
    plain = copy.deepcopy(shipped())
    for entry in plain["inputs"]:
        entry["preprocessing"] = [s for s in entry["preprocessing"] if s["op"] == "resize"]
    p1, _ = exam("--models", str(model_folder(tmp_path, "plain", plain)), "--out", str(tmp_path / "a"), "--no-png", "--no-gradcam")
    p2, _ = exam("--models", WEIGHTS, "--out", str(tmp_path / "b"), "--no-png", "--no-gradcam")
    assert p1.returncode == 0 and p2.returncode == 0, p1.stderr + p2.stderr
    a = np.asanyarray(nib.load(tmp_path / "a" / "t1_denoised.nii.gz").dataobj)
    b = np.asanyarray(nib.load(tmp_path / "b" / "t1_denoised.nii.gz").dataobj)
    assert a.shape == b.shape and not np.allclose(a, b)


def broken(kind):
    j = shipped()
    if kind == "wrong hash":
        j["models"]["segmenter"]["sha256"] = "0" * 64
        return j, ["model 'segmenter'", "0" * 64]
    if kind == "unknown step":
        j["stages"].append({"step": "sharpen"})
        return j, ["unknown step 'sharpen'"]
    if kind == "missing input":
        j["stages"][2]["input"] = "FLAIR"
        return j, ["input 'FLAIR'"]
    if kind == "missing model":
        j["models"]["denoiser"]["file"] = "demo_denoiser_v9.vxm"
        return j, ["model 'denoiser'", "demo_denoiser_v9.vxm"]
    if kind == "wrong grid":
        for entry in j["inputs"]:
            entry["preprocessing"][0]["size"] = [32, 32, 8]
        return j, ["T1 preprocessing", "32x32x8"]
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["wrong hash", "unknown step", "missing input", "missing model", "wrong grid"])
@pytest.mark.parametrize("out_exists", [False, True])
def test_bad_pipeline_fails_before_anything_is_written(tmp_path, kind, out_exists):
    j, says = broken(kind)
    d = model_folder(tmp_path, "models")
    pf = d / "bad.pipeline.json"
    pf.write_text(json.dumps(j))
    out = tmp_path / "out"
    if out_exists:
        out.mkdir()
        (out / "keep.txt").write_text("mine")
    p, _ = exam("--pipeline", str(pf), "--out", str(out))
    assert p.returncode != 0
    for s in says:
        assert s in p.stderr, p.stderr
    if out_exists:
        assert sorted(os.listdir(out)) == ["keep.txt"] and (out / "keep.txt").read_text() == "mine"
    else:
        assert not out.exists()


def test_models_folder_with_two_pipelines_is_refused(tmp_path):
    d = model_folder(tmp_path, "models", shipped())
    (d / "other.pipeline.json").write_text(json.dumps(shipped()))
    p, _ = exam("--models", str(d), "--out", str(tmp_path / "out"))
    assert p.returncode != 0 and "several pipeline files" in p.stderr and "--pipeline" in p.stderr
    assert not (tmp_path / "out").exists()


def test_python_exam_takes_a_pipeline_file(tmp_path):
    import voxinfer

    exam = voxinfer.Exam(os.path.join(WEIGHTS, "demo.pipeline.json"))
    scans = [INPUTS[1], INPUTS[3]]
    rep = exam.run(scans, tmp_path / "py", gradcam=False, png=False)
    assert rep["pipeline"]["file"] == "demo.pipeline.json"
    assert [s["op"] for s in rep["pipeline"]["inputs"][1]["preprocessing"]] == ["resize", "clip_percentile", "n4"]
    j, says = broken("wrong hash")
    d = model_folder(tmp_path, "models")
    (d / "bad.pipeline.json").write_text(json.dumps(j))
    with pytest.raises(voxinfer.VoxinferError, match="model 'segmenter'"):
        voxinfer.Exam(d / "bad.pipeline.json")
    with pytest.raises(voxinfer.VoxinferError, match="model 'segmenter'"):
        voxinfer.Exam(d)  # the folder's one pipeline file
