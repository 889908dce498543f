"""The exam's pictures are readable (issue 19, item 5): the Grad-CAM montages show the scan as
read, at its in-plane resolution enlarged to >= 512 px, in radiological orientation, with the
Grad-CAM NIfTI blended on it; the lesion mask has a montage too. Oracle: nibabel's reading of
the scan and of the written map, the display rule (rows: superior first when an in-plane axis
runs S/I, else anterior first; columns: patient's right, else anterior, first, from nibabel's
aff2axcodes), and the colour bar of the picture itself as the colour table (INFERNO): each
tile pixel must be 0.5 grey + 0.5 colour(map) within 2 levels."""
import json
import math
import os
import subprocess

import nibabel as nib
import numpy as np
from PIL import Image

CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")
SCANS = os.path.join(os.environ["VX_SOURCE_DIR"], "examples", "data", "spine-cervical-sct")
BAR = 44  # the colour bar band under the tiles (lib/pipeline/scan_montage.cpp)


def display(data2d, codes):
    """data2d indexed [i, j] -> [row, col] by the rule in the docstring."""
    fam = {c: ("x" if c in "LR" else "y" if c in "AP" else "z") for c in "LRAPSI"}
    row_axis = 0 if fam[codes[0]] == "z" else 1 if fam[codes[1]] == "z" else 0 if fam[codes[0]] == "y" else 1
    a = data2d if row_axis == 0 else data2d.T  # [row axis, col axis]
    if codes[row_axis] not in "IPL":
        a = a[::-1, :]
    if codes[1 - row_axis] not in "IPL":
        a = a[:, ::-1]
    return a


def run_exam(tmp_path):
    out = tmp_path / "exam"
    p = subprocess.run([CLI, "exam", "--input", os.path.join(SCANS, "t1w.nii.gz"), "--input",
                        os.path.join(SCANS, "t2.nii.gz"), "--out", str(out), "--quiet"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return out, json.loads((out / "report.json").read_text())


def test_gradcam_montage_is_the_scan_with_its_map(tmp_path):
    out, report = run_exam(tmp_path)
    scan = nib.load(os.path.join(SCANS, "t1w.nii.gz"))
    vol = np.asarray(scan.get_fdata(), np.float32)
    entry = next(e for e in report["gradcam"] if e["sequence"] == "T1")
    cam = np.asarray(nib.load(str(out / entry["nifti"])).get_fdata(), np.float32)
    assert cam.shape == vol.shape
    codes = nib.aff2axcodes(scan.affine)
    img = np.asarray(Image.open(out / entry["png"]).convert("RGB")).astype(int)
    ks = entry["png_slices"]
    assert 1 <= len(ks) <= 12 and all(0 <= k < vol.shape[2] for k in ks) and ks == sorted(ks)
    tile0 = display(vol[:, :, 0], codes)
    cols = min(4, len(ks))
    rows = math.ceil(len(ks) / cols)
    assert img.shape[1] >= 512
    zoom = img.shape[1] // (cols * tile0.shape[1])
    assert zoom * cols * tile0.shape[1] == img.shape[1]
    top = img.shape[0] - BAR - rows * tile0.shape[0] * zoom
    assert top > 0  # room for the title line
    # The colour table, read off the bar (x0 = 40 px, width = picture width - 80).
    w = img.shape[1] - 80
    bar = img[top + rows * tile0.shape[0] * zoom + 6 + 7, 40:40 + w]
    lut = np.array([bar[min(w - 1, (lvl * w + 255) // 256)] for lvl in range(256)])
    lo, hi = float(vol.min()), float(vol.max())
    bad = checked = 0
    for t, k in enumerate(ks):
        grey = np.clip(np.round((display(vol[:, :, k], codes) - lo) / (hi - lo) * 255), 0, 255)
        level = np.round(np.clip(display(cam[:, :, k], codes), 0, 1) * 255).astype(int)
        y0 = top + (t // cols) * tile0.shape[0] * zoom
        x0 = (t % cols) * tile0.shape[1] * zoom
        for r in range(tile0.shape[0]):
            for c in range(tile0.shape[1]):
                if r * zoom < 34 and c * zoom < 90:
                    continue  # the slice label
                px = img[y0 + r * zoom + zoom // 2, x0 + c * zoom + zoom // 2]
                want = 0.5 * grey[r, c] + 0.5 * lut[level[r, c]]
                checked += 1
                bad += int(np.abs(px - want).max() > 2.5)
    assert checked > 1000 and bad <= checked * 0.002, (bad, checked)


def test_lesion_mask_montage_and_report(tmp_path):
    out, report = run_exam(tmp_path)
    seg = report["segmentation"]
    img = Image.open(out / seg["png"])
    assert img.size[0] >= 512
    stir = nib.load(os.path.join(SCANS, "t2.nii.gz"))
    assert all(0 <= k < stir.shape[2] for k in seg["png_slices"])
    assert "lesion_mask.png" in report["outputs"]
