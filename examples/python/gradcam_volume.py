#!/usr/bin/python3
"""Reads a scan, runs a single-input 3-D model on it, writes the result and a Grad-CAM map as NIfTI
with the scan's geometry.

    PYTHONPATH=bindings/python VOXINFER_LIBRARY=build/libvoxinfer.so \
        /usr/bin/python3 examples/python/gradcam_volume.py MODEL.vxm [SCAN] [OUTDIR]

SCAN: a NIfTI file or DICOM folder; default: the first NIfTI in examples/data/, else
tests/data/mri/spine-cervical-sct/t1/t1w.nii.gz. OUTDIR: default the current folder.
The scan is fed as is (z-scored here for the demo; use the model's own preprocessing for real use).
"""
import glob
import os
import sys

import numpy as np

import voxinfer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def default_scan():
    found = sorted(glob.glob(os.path.join(REPO, "examples", "data", "*.nii*")))
    if found:
        return found[0]
    return os.path.join(REPO, "tests", "data", "mri", "spine-cervical-sct", "t1", "t1w.nii.gz")


def main():
    model_path = sys.argv[1]
    scan_path = sys.argv[2] if len(sys.argv) > 2 else default_scan()
    outdir = sys.argv[3] if len(sys.argv) > 3 else "."
    scan = voxinfer.read_volume(scan_path)
    print(f"scan {scan_path}: {scan}")
    x = scan.data.T  # (D, H, W) = (nz, ny, nx): the model's layout
    x = ((x - x.mean()) / (x.std() + 1e-6))[None, None].astype(np.float32)
    model = voxinfer.Model(model_path)
    out = model.run(x)
    out = out[0] if isinstance(out, list) else out
    if out.ndim == 5 and out.shape[2:] == x.shape[2:]:
        scan.like(out[0, 0].T).write(os.path.join(outdir, "result.nii.gz"))
        print(f"wrote {os.path.join(outdir, 'result.nii.gz')}")
    else:
        print(f"output {out.shape}: {np.round(out.ravel()[:16], 4)}")
    maps = model.gradcam([x])
    path = os.path.join(outdir, "gradcam.nii.gz")
    scan.like(maps[0].T).write(path)  # a (D, H, W) map on the scan's grid
    print(f"class {maps.target}, Grad-CAM raw max {maps.raw_max[0]:.4g}: wrote {path}")


if __name__ == "__main__":
    main()
