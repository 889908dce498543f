"""`voxinfer cohort` on a 2-worker local Dask cluster: the table and the report; a run killed
half-way resumes without redoing finished examinations; a corrupt examination fails alone;
the report's statistics equal an independent SciPy computation."""
import csv
import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest
from scipy import stats as sst

FIX = os.path.join(os.environ["VX_FIXTURE_DIR"], "cohort")
CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")
WEIGHTS = os.path.join(os.environ["VX_SOURCE_DIR"], "weights")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The demo models without weights/demo.pipeline.json: the test is about the cohort machinery
    (44 examinations), and the pipeline's N4 step would add about 2 s to each of them."""
    d = tmp_path_factory.mktemp("models")
    for f in os.listdir(WEIGHTS):
        if f.endswith(".vxm"):
            os.symlink(os.path.join(WEIGHTS, f), d / f)
    return str(d)


def cohort(out, models, **popen):
    return subprocess.Popen([CLI, "cohort", "--manifest", os.path.join(FIX, "manifest.csv"), "--out", str(out),
                             "--models", models, "--workers", "2", "--threads-per-worker", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, **popen)


def done_markers(out):
    d = os.path.join(out, "exams")
    if not os.path.isdir(d):
        return {}
    return {e: os.stat(os.path.join(d, e, "done.json")).st_mtime_ns for e in os.listdir(d)
            if os.path.exists(os.path.join(d, e, "done.json"))}


def test_cohort_kill_resume_table_and_report(tmp_path, models):
    out = tmp_path / "cohort"
    n_exams = sum(1 for _ in open(os.path.join(FIX, "manifest.csv"))) - 1
    assert n_exams >= 41

    # First run: killed (the whole process group, Dask workers included) once some exams are done.
    p = cohort(out, models)
    deadline = time.time() + 240
    while len(done_markers(out)) < 6 and p.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert p.poll() is None, "the first run finished before it could be killed: " + p.stderr.read()[-2000:]
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    first = done_markers(out)
    assert 6 <= len(first) < n_exams - 1
    assert not (out / "results.csv").exists()

    # Second run finishes the rest; what was done stays untouched.
    p = cohort(out, models)
    stdout, stderr = p.communicate(timeout=600)
    assert p.returncode == 0, stderr[-3000:]
    after = done_markers(out)
    for e, mtime in first.items():
        assert after[e] == mtime, f"{e} was redone"
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == n_exams
    by_id = {r["exam_id"]: r for r in rows}
    assert {e for e, r in by_id.items() if r["status"] == "skipped"} == set(first)
    broken = by_id["broken"]
    assert broken["status"] == "failed" and "broken_stir" in broken["error"]
    assert all(r["status"] in ("ok", "skipped") for e, r in by_id.items() if e != "broken")
    assert len({r["model_sha256"] for e, r in by_id.items() if e != "broken"}) == 1
    for r in rows:
        if r["status"] != "failed":
            assert os.path.exists(os.path.join(r["out_dir"], "report.json"))
            assert 0.0 <= float(r["probability"]) <= 1.0 and 0.0 <= float(r["dice"]) <= 1.0

    # The report: statistics against an independent computation on the same table.
    rep = json.load(open(out / "report" / "report.json"))
    assert rep["failed"] == [{"exam_id": "broken", "error": broken["error"]}]
    test = [r for r in rows if r["status"] != "failed" and r["split"] == "test"]
    s = np.array([float(r["probability"]) for r in test])
    y = np.array([int(float(r["reference_label"])) for r in test])
    u = sst.mannwhitneyu(s[y == 1], s[y == 0]).statistic
    assert rep["auc"] == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()), abs=1e-12)
    c = rep["at_cutoff"]
    tp = int(((s >= c["cutoff"]) & (y == 1)).sum())
    assert c["sensitivity"]["k"] == tp
    if 0 < tp < (y == 1).sum():
        assert c["sensitivity"]["ci_low"] == pytest.approx(sst.beta.ppf(0.025, tp, (y == 1).sum() - tp + 1), abs=1e-9)
    assert "Grad-CAM" in open(out / "report" / "report.html").read()
