"""The validation report of a cohort run: JSON for machines, one HTML page for people.

Input is the cohort result table (one dict per examination, as `voxinfer.cohort` writes it):
  exam_id, status ("ok" | "failed" | "skipped"), error, probability, reference_label, split,
  dice, gradcam_png, and optional rater_* columns with several raters' labels.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import os

import numpy as np

from . import stats


def _finite(x) -> bool:
    try:
        return x is not None and x != "" and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def build_report(rows, cutoff=None, validation_split="validation", n_boot=2000, seed=0) -> dict:
    """Computes every statistic of the report from the result rows."""
    rows = list(rows)
    ok = [r for r in rows if r.get("status") in ("ok", "skipped")]
    failed = [{"exam_id": r.get("exam_id"), "error": r.get("error", "")} for r in rows if r.get("status") == "failed"]
    rep = {"examinations": len(rows), "completed": len(ok), "failed": failed}

    labelled = [r for r in ok if _finite(r.get("probability")) and str(r.get("reference_label", "")) in ("0", "1", "0.0", "1.0")]
    if labelled:
        s = np.array([float(r["probability"]) for r in labelled])
        y = np.array([int(float(r["reference_label"])) for r in labelled])
        val = np.array([r.get("split") == validation_split for r in labelled])
        test = ~val if val.any() and (~val).any() else np.ones_like(val)
        rep["n_labelled"] = int(y.size)
        if 0 < y[test].sum() < test.sum():
            rep["auc"] = stats.auc(s[test], y[test])
            rep["auc_ci95"] = list(stats.bootstrap_auc_ci(s[test], y[test], n_boot=n_boot, seed=seed))
            fpr, tpr, _ = stats.roc_curve(s[test], y[test])
            rep["roc"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist()}
        if cutoff is None:
            if val.any() and 0 < y[val].sum() < val.sum():
                cutoff, how = stats.youden_cutoff(s[val], y[val]), f"Youden's J on split '{validation_split}'"
            else:
                cutoff, how = 0.5, "default 0.5 (no validation split with both classes)"
        else:
            how = "given"
        rep["cutoff_chosen_by"] = how
        rep["at_cutoff"] = stats.classification_summary(s[test], y[test], float(cutoff))
        rep["evaluated_on"] = "all labelled examinations" if test.all() else f"examinations not in split '{validation_split}'"

    dices = [float(r["dice"]) for r in ok if _finite(r.get("dice"))]
    if dices:
        rep["dice"] = stats.summary(dices)

    rater_cols = sorted({k for r in ok for k in r if k.startswith("rater_")})
    if len(rater_cols) >= 2:
        usable = [r for r in ok if all(str(r.get(c, "")) != "" for c in rater_cols)]
        if usable:
            labels = [[r[c] for r in usable] for c in rater_cols]
            rep["fleiss_kappa"] = {"raters": rater_cols, "items": len(usable),
                                   "kappa": stats.fleiss_kappa(stats.ratings_table(labels))}

    confident = sorted((r for r in labelled), key=lambda r: float(r["probability"])) if labelled else []
    rep["most_confident_positive"] = [r["exam_id"] for r in confident[-3:]][::-1]
    rep["most_confident_negative"] = [r["exam_id"] for r in confident[:3]]
    return rep


def _png_data_uri(path_or_bytes) -> str:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else open(path_or_bytes, "rb").read()
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _roc_png(rep) -> bytes | None:
    if "roc" not in rep:
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    ax.plot(rep["roc"]["fpr"], rep["roc"]["tpr"], lw=2, label=f"AUC {rep['auc']:.3f}")
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=1)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.legend(loc="lower right")
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _pct(p) -> str:
    return f"{100 * p['value']:.0f}% ({p['k']}/{p['n']}; 95% CI {100 * p['ci_low']:.0f}-{100 * p['ci_high']:.0f}%)"


def write_report(rows, out_dir, **kwargs) -> dict:
    """Writes report.json, roc.png and report.html into out_dir (atomically); returns the report."""
    rows = list(rows)
    rep = build_report(rows, **kwargs)
    os.makedirs(out_dir, exist_ok=True)

    def atomic_write(name, data: bytes):
        tmp = os.path.join(out_dir, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(out_dir, name))

    atomic_write("report.json", json.dumps(rep, indent=2).encode())
    roc = _roc_png(rep)
    if roc:
        atomic_write("roc.png", roc)

    by_id = {r.get("exam_id"): r for r in rows}
    parts = ["<!doctype html><meta charset='utf-8'><title>voxinfer validation report</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:2px 8px;text-align:left}"
             "img.m{max-width:100%}</style>",
             "<h1>Validation report</h1>",
             f"<p>{rep['examinations']} examinations, {rep['completed']} completed, {len(rep['failed'])} failed.</p>"]
    if "auc" in rep:
        parts.append(f"<h2>Discrimination</h2><p>AUC {rep['auc']:.3f} (bootstrap 95% CI {rep['auc_ci95'][0]:.3f}-"
                     f"{rep['auc_ci95'][1]:.3f}), on {html.escape(rep['evaluated_on'])}.</p>")
        parts.append(f"<img src='{_png_data_uri(roc)}' alt='ROC curve'>")
    if "at_cutoff" in rep:
        c = rep["at_cutoff"]
        parts.append(f"<h2>At cut-off {c['cutoff']:.3f}</h2><p>chosen by {html.escape(rep['cutoff_chosen_by'])}</p><table>")
        for key in ("sensitivity", "specificity", "accuracy"):
            if key in c:
                parts.append(f"<tr><th>{key}</th><td>{_pct(c[key])}</td></tr>")
        (tn, fp), (fn, tp) = c["confusion_matrix"]
        parts.append(f"</table><p>Confusion matrix (rows: reference 0/1; columns: predicted 0/1)</p>"
                     f"<table><tr><td>{tn}</td><td>{fp}</td></tr><tr><td>{fn}</td><td>{tp}</td></tr></table>")
    if "dice" in rep:
        d = rep["dice"]
        parts.append(f"<h2>Segmentation</h2><p>Dice mean {d['mean']:.3f} (median {d['median']:.3f}, n={d['n']}).</p>")
    if "fleiss_kappa" in rep:
        k = rep["fleiss_kappa"]
        parts.append(f"<h2>Rater agreement</h2><p>Fleiss' kappa {k['kappa']:.3f} ({len(k['raters'])} raters, {k['items']} items).</p>")
    for title, ids in (("Most confident positives", rep.get("most_confident_positive", [])),
                       ("Most confident negatives", rep.get("most_confident_negative", []))):
        imgs = [(i, by_id[i].get("gradcam_png")) for i in ids if by_id.get(i, {}).get("gradcam_png")]
        imgs = [(i, p) for i, p in imgs if os.path.exists(p)]
        if imgs:
            parts.append(f"<h2>{title} (Grad-CAM)</h2>")
            for i, p in imgs:
                parts.append(f"<p>{html.escape(str(i))} (p = {float(by_id[i]['probability']):.3f})<br>"
                             f"<img class='m' src='{_png_data_uri(p)}'></p>")
    if rep["failed"]:
        parts.append("<h2>Failed examinations</h2><table>")
        parts += [f"<tr><td>{html.escape(str(f['exam_id']))}</td><td>{html.escape(str(f['error']))}</td></tr>" for f in rep["failed"]]
        parts.append("</table>")
    atomic_write("report.html", "\n".join(parts).encode())
    return rep
