"""The cohort report: its statistics equal an independent SciPy computation; failures are listed."""
import json

import numpy as np
import pytest
from scipy import stats as sst

from voxinfer import report


def rows_fixture():
    rng = np.random.default_rng(7)
    rows = []
    for i in range(60):
        y = int(i % 2)
        rows.append({"exam_id": f"e{i:02d}", "status": "ok", "probability": float(1 / (1 + np.exp(-(rng.normal() + 1.5 * y - 0.7)))),
                     "reference_label": y, "split": "validation" if i < 20 else "test", "dice": float(rng.uniform(0.5, 0.9)),
                     "rater_1": y, "rater_2": y if i % 7 else 1 - y, "rater_3": y})
    rows.append({"exam_id": "broken", "status": "failed", "error": "truncated NIfTI file"})
    return rows


def test_report_statistics_match_independent_computation(tmp_path):
    rows = rows_fixture()
    rep = report.write_report(rows, tmp_path, n_boot=300)
    test = [r for r in rows if r.get("split") == "test"]
    s = np.array([r["probability"] for r in test]); y = np.array([r["reference_label"] for r in test])
    u = sst.mannwhitneyu(s[y == 1], s[y == 0]).statistic
    assert rep["auc"] == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()), abs=1e-12)
    c = rep["at_cutoff"]
    tp = int(((s >= c["cutoff"]) & (y == 1)).sum()); n_pos = int((y == 1).sum())
    assert c["sensitivity"]["k"] == tp and c["sensitivity"]["n"] == n_pos
    assert c["sensitivity"]["ci_low"] == pytest.approx(sst.beta.ppf(0.025, tp, n_pos - tp + 1), abs=1e-9)
    assert rep["failed"] == [{"exam_id": "broken", "error": "truncated NIfTI file"}]
    assert rep["completed"] == 60
    assert -1 <= rep["fleiss_kappa"]["kappa"] <= 1
    on_disk = json.loads((tmp_path / "report.json").read_text())
    assert on_disk["auc"] == rep["auc"]
    page = (tmp_path / "report.html").read_text()
    assert "broken" in page and "AUC" in page and (tmp_path / "roc.png").stat().st_size > 1000
