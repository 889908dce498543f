#!/usr/bin/python3
"""A cohort of 44 examinations for the cohort tests, written as NIfTI files plus a manifest.

The examinations come from the demo training data generator (weights/train/data.py): real
sample scans with synthetic oedema-like lesions inserted, known labels and lesion masks.
12 come from the training sources (split "validation"), 32 from the held-out sources
(split "test"). One more examination has a truncated STIR file: it must fail alone.
"""
import csv
import os
import sys

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "weights", "train"))
import data  # noqa: E402


def main(out):
    os.makedirs(out, exist_ok=True)
    _train, val, test = data.split_sets(0, 12, 32, seed=7)
    affine = np.diag([1.0, 1.0, 3.0, 1.0])
    rows = []

    def save(name, arr):
        path = os.path.join(out, name)
        nib.save(nib.Nifti1Image(np.ascontiguousarray(arr.transpose(2, 1, 0)).astype(np.float32), affine), path)
        return name

    for split, exams in (("validation", val), ("test", test)):
        for k, e in enumerate(exams):
            eid = f"{split[:3]}{k:02d}"
            rows.append({"exam_id": eid, "t1": save(f"{eid}_t1.nii.gz", e["t1"]),
                         "stir": save(f"{eid}_stir.nii.gz", e["stir"]),
                         "mask": save(f"{eid}_mask.nii.gz", e["lesion"].astype(np.float32)),
                         "label": e["label"], "split": split})
    good = open(os.path.join(out, rows[0]["stir"]), "rb").read()
    with open(os.path.join(out, "broken_stir.nii.gz"), "wb") as f:
        f.write(good[: len(good) // 3])
    rows.append({"exam_id": "broken", "t1": rows[0]["t1"], "stir": "broken_stir.nii.gz", "mask": "",
                 "label": 1, "split": "test"})
    with open(os.path.join(out, "manifest.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} examinations to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "cohort")
