"""Batch inference over a cohort of examinations on Dask, and its validation report.

    python3 -m voxinfer.cohort --manifest cohort.csv --out DIR [--models DIR]
                               [--scheduler ADDRESS | --workers 2] [--threads-per-worker 1]
                               [--validation-split validation] [--cutoff P] [--no-report]
(`voxinfer cohort ...` runs the same.)

The manifest is a CSV with a header: `exam_id` and the sequences' paths (`t1`, `stir`; NIfTI
files or DICOM folders, relative to the manifest's folder), optionally `label` (0/1 reference),
`split` (e.g. validation/test), `mask` (reference lesion mask on the STIR scan's grid) and
`rater_*` columns (several raters' labels, for Fleiss' kappa).

Each examination runs on a Dask worker that loads the models once (a `voxinfer.Exam` per worker
process) and writes DIR/exams/<exam_id>/ (NIfTI, PNG, report.json) atomically, then a
`done.json` marker holding its result row. A rerun skips every examination whose marker names
the same model hashes and input hashes, so a killed run resumes where it stopped. A failing
examination gets status "failed" and its error message; the others go on. At the end the table
is written as DIR/results.csv (and results.parquet when pyarrow is available) and the report
(voxinfer.report) into DIR/report/.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time

_WORKER_EXAMS = {}  # per worker process: (models_dir, threads) -> voxinfer.Exam


def _hash_path(path: str) -> str:
    """SHA-256 of a file's bytes, or of a folder's files (names, sizes and bytes)."""
    h = hashlib.sha256()
    if os.path.isdir(path):
        for root, _dirs, files in sorted(os.walk(path)):
            for name in sorted(files):
                p = os.path.join(root, name)
                h.update(os.path.relpath(p, path).encode() + b"\0")
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
    else:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def models_hash(models_dir: str) -> str:
    h = hashlib.sha256()
    for name in ("demo_denoiser.vxm", "demo_classifier.vxm", "demo_segmenter.vxm"):
        p = os.path.join(models_dir, name)
        if os.path.exists(p):
            h.update(name.encode() + _hash_path(p).encode())
    return h.hexdigest()


def read_manifest(path: str):
    base = os.path.dirname(os.path.abspath(path))
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"manifest {path} has no examinations")
    for col in ("exam_id", "t1", "stir"):
        if col not in rows[0]:
            raise ValueError(f"manifest {path} lacks the column '{col}'")
    seen = set()
    for r in rows:
        if not r["exam_id"] or r["exam_id"] in seen or "/" in r["exam_id"]:
            raise ValueError(f"manifest {path}: exam_id '{r['exam_id']}' is empty, repeated or has a '/'")
        seen.add(r["exam_id"])
        for col in ("t1", "stir", "mask"):
            if r.get(col):
                r[col] = os.path.normpath(os.path.join(base, r[col]))
    return rows


def _positive_probability(report: dict) -> float:
    c = report["classification"]
    names = [n.lower() for n in c.get("classes", [])]
    idx = names.index("lesion") if "lesion" in names else len(c["probabilities"]) - 1
    return float(c["probabilities"][idx])


def _dice_with_reference(pred_path: str, ref_path: str):
    import nibabel as nib
    import numpy as np
    a = np.asarray(nib.load(pred_path).dataobj) > 0.5
    b = np.asarray(nib.load(ref_path).dataobj) > 0.5
    if a.shape != b.shape:
        raise ValueError(f"reference mask {b.shape} is not on the STIR grid {a.shape}")
    s = a.sum() + b.sum()
    return 1.0 if s == 0 else float(2 * (a & b).sum() / s)


def run_one(row: dict, models_dir: str, threads: int, out_root: str, mhash: str) -> dict:
    """Runs (or skips, when already done with the same models and inputs) one examination."""
    exam_dir = os.path.join(out_root, "exams", row["exam_id"])
    marker = os.path.join(exam_dir, "done.json")
    base = {k: row.get(k, "") for k in row}
    base.update({"exam_id": row["exam_id"], "reference_label": row.get("label", ""), "model_sha256": mhash})
    t0 = time.time()
    try:
        ihash = hashlib.sha256("".join(_hash_path(row[c]) for c in ("t1", "stir")).encode()).hexdigest()
    except OSError as e:
        return base | {"status": "failed", "error": f"cannot read the inputs: {e}", "seconds": time.time() - t0}
    if os.path.exists(marker):
        with open(marker) as f:
            done = json.load(f)
        if done.get("model_sha256") == mhash and done.get("input_sha256") == ihash and done.get("status") == "ok":
            return done | {"status": "skipped"}
    import voxinfer  # imported on the worker
    key = (models_dir, threads)
    if key not in _WORKER_EXAMS:
        _WORKER_EXAMS[key] = voxinfer.Exam(models_dir, threads=threads or None)
    try:
        rep = _WORKER_EXAMS[key].run([row["t1"], row["stir"]], exam_dir)
    except voxinfer.VoxinferError as e:
        return base | {"status": "failed", "error": str(e), "input_sha256": ihash, "seconds": time.time() - t0}
    out = base | {"status": "ok", "error": "", "input_sha256": ihash, "seconds": time.time() - t0,
                  "probability": _positive_probability(rep),
                  "predicted_label": rep["classification"]["predicted_label"], "out_dir": exam_dir}
    seg = rep.get("segmentation")
    if seg:
        out["lesion_volume_ml"] = seg["lesion_volume_ml"]
        out["lesion_score"] = seg["lesion_score"]
        if row.get("mask"):
            out["dice"] = _dice_with_reference(os.path.join(exam_dir, seg["mask"]), row["mask"])
    for g in rep.get("gradcam", []):
        if g.get("png") and g["sequence"].lower() == "stir":
            out["gradcam_png"] = os.path.join(exam_dir, g["png"])
    tmp = marker + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.replace(tmp, marker)
    return out


def _progress(done: int, total: int, failed: int):
    width = 30
    fill = width * done // max(total, 1)
    sys.stderr.write(f"\rexaminations [{'#' * fill}{' ' * (width - fill)}] {done}/{total}"
                     + (f" ({failed} failed)" if failed else ""))
    sys.stderr.flush()


def run_cohort(manifest: str, out_dir: str, models_dir: str, scheduler: str | None = None, workers: int = 2,
               threads_per_worker: int = 1, report: bool = True, validation_split: str = "validation",
               cutoff: float | None = None) -> list:
    from dask.distributed import Client, LocalCluster, as_completed

    rows = read_manifest(manifest)
    models_dir = os.path.abspath(models_dir)
    out_dir = os.path.abspath(out_dir)
    os.makedirs(os.path.join(out_dir, "exams"), exist_ok=True)
    mhash = models_hash(models_dir)
    if scheduler:
        client, cluster = Client(scheduler), None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    results = []
    try:
        futures = [client.submit(run_one, r, models_dir, threads_per_worker, out_dir, mhash, key=f"exam-{r['exam_id']}",
                                 pure=False) for r in rows]
        failed = 0
        _progress(0, len(rows), 0)
        for fut in as_completed(futures):
            try:
                res = fut.result()
            except Exception as e:  # a worker died: report the exam, keep going
                res = {"exam_id": fut.key.removeprefix("exam-"), "status": "failed", "error": f"worker error: {e}"}
            failed += res.get("status") == "failed"
            results.append(res)
            _progress(len(results), len(rows), failed)
        sys.stderr.write("\n")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    order = {r["exam_id"]: i for i, r in enumerate(rows)}
    results.sort(key=lambda r: order.get(r["exam_id"], 1 << 30))
    write_table(results, out_dir)
    if report:
        from . import report as rep
        rep.write_report(results, os.path.join(out_dir, "report"), validation_split=validation_split, cutoff=cutoff)
    return results


def write_table(rows: list, out_dir: str):
    cols = ["exam_id", "status", "error", "probability", "predicted_label", "reference_label", "split",
            "lesion_volume_ml", "lesion_score", "dice", "seconds", "model_sha256", "input_sha256", "out_dir",
            "gradcam_png"]
    extra = sorted({k for r in rows for k in r} - set(cols) - {"t1", "stir", "mask", "label"})
    cols += extra
    tmp = os.path.join(out_dir, ".results.csv.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in cols})
    os.replace(tmp, os.path.join(out_dir, "results.csv"))
    try:
        import pandas as pd
        df = pd.DataFrame([{k: r.get(k, None) for k in cols} for r in rows])
        df.to_parquet(os.path.join(out_dir, "results.parquet"))
    except Exception:  # pyarrow/fastparquet absent: CSV only
        pass


_EXAMPLES = """example:
  voxinfer cohort --manifest cohort.csv --out run1/ --workers 4
  voxinfer cohort --manifest cohort.csv --out run1/ --scheduler tcp://10.0.0.5:8786 --cutoff 0.42
  (rerun the same command to resume: finished examinations are skipped)"""


def _parser() -> argparse.ArgumentParser:
    # The module docstring's summary, manifest and outputs paragraphs are the description.
    parts = __doc__.split("\n\n")
    p = argparse.ArgumentParser(prog="voxinfer cohort", description="\n\n".join([parts[0], parts[2], parts[3]]),
                                epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", required=True, metavar="CSV",
                   help="the cohort's CSV: exam_id, t1, stir [, label, split, mask, rater_*] (required)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder: exams/<exam_id>/, results.csv, report/ (required; created if needed)")
    p.add_argument("--models", default=os.environ.get("VOXINFER_MODELS"), metavar="DIR",
                   help="folder of the demo_*.vxm models (default: $VOXINFER_MODELS, which `voxinfer cohort` "
                        "sets to the shipped models)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="address of a running Dask scheduler, e.g. tcp://host:8786 (default: none, a local "
                        "cluster of --workers processes)")
    p.add_argument("--workers", type=int, default=2, metavar="N",
                   help="worker processes of the local cluster; ignored with --scheduler (default: %(default)s)")
    p.add_argument("--threads-per-worker", type=int, default=1, metavar="N",
                   help="OpenMP threads per examination, 0 = all cores (default: %(default)s)")
    p.add_argument("--validation-split", default="validation", metavar="NAME",
                   help="manifest split whose examinations choose the cut-off (Youden's J); the report is "
                        "computed on the others (default: %(default)s)")
    p.add_argument("--cutoff", type=float, metavar="P",
                   help="probability cut-off for the report's sensitivity and specificity (default: chosen "
                        "on --validation-split, else 0.5)")
    p.add_argument("--no-report", action="store_true",
                   help="write results.csv only, no report/ (default: the report is written)")
    return p


def main(argv=None):
    p = _parser()
    a = p.parse_args(argv)
    if not a.models:
        p.error("--models (or VOXINFER_MODELS) is required")
    try:
        res = run_cohort(a.manifest, a.out, a.models, a.scheduler, a.workers, a.threads_per_worker,
                         not a.no_report, a.validation_split, a.cutoff)
    except (ValueError, OSError) as e:
        print(f"voxinfer cohort: error: {e}", file=sys.stderr)
        return 2
    n_fail = sum(r.get("status") == "failed" for r in res)
    n_skip = sum(r.get("status") == "skipped" for r in res)
    print(f"{len(res)} examinations: {len(res) - n_fail - n_skip} run, {n_skip} already done, {n_fail} failed; "
          f"table {os.path.join(a.out, 'results.csv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
