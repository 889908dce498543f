#!/usr/bin/python3
"""DICOM series whose slice positions are not on a regular grid, written by pydicom from the
real data (the sagittal T1 series in tests/data/mri and a NIfTI volume), with the expected
result computed independently here (numpy / scipy), for tests/io/dicom_geometry_test.cpp and
tests/cli/test_cli_dicom_geometry.py:

  missing   sagittal T1 (35 x 4.8 mm) without slice 18           -> refused; resampled: 35 slices
  gaps      NIfTI volume (20 slices), gaps 3.5 mm then 4.5 mm     -> refused; resampled: median gap
  jitter    sagittal T1, positions moved +-0.02 mm along the normal -> accepted as it is
  sheared   sagittal T1, each slice 0.5 mm further along the rows  -> refused (gantry tilt)

The resampling grid is the one lib/io/slice_grid.h states: from the first position, every
median gap, up to the last one (within 1% of a gap); voxels by linear interpolation along the
normal between the two enclosing true slices (scipy.interpolate.interp1d here).
manifest.json: per case, the folder, the expected status without the option, and with it the
expected shape, RAS affine and reference voxels (float32 [slice, row, column])."""
import json
import os
import pathlib
import sys

import nibabel as nib
import numpy as np
import pydicom
from scipy.interpolate import interp1d

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dicom_writer import write_series  # noqa: E402

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
data_dir = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR", pathlib.Path(__file__).resolve().parents[1] / "data"))
mri = data_dir / "mri"
LPS2RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
man = {}


def sorted_series(folder):
    ds = [pydicom.dcmread(str(p)) for p in sorted(folder.glob("*.dcm"))]
    iop = np.array(ds[0].ImageOrientationPatient, float)
    normal = np.cross(iop[:3], iop[3:])
    ds.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, float), normal)))
    return ds, iop, normal


def affine_ras(iop, spacing, origin, step):
    lps = np.eye(4)
    lps[:3, 0] = iop[:3] * spacing[1]
    lps[:3, 1] = iop[3:] * spacing[0]
    lps[:3, 2] = step
    lps[:3, 3] = origin
    return LPS2RAS @ lps


def expect(name, folder, status, vol=None, affine=None, true_positions=None, message=()):
    e = {"path": str(folder), "status": status, "message": list(message)}
    if vol is not None:
        ref = out / f"{name}.f32"
        np.ascontiguousarray(vol, "<f4").tofile(ref)
        e.update({"shape_dhw": list(vol.shape), "affine": affine.ravel().tolist(), "ref": str(ref)})
    if true_positions is not None:  # RAS of each resampled slice's first voxel that a true slice also has
        e["true_positions_ras"] = true_positions
    man[name] = e


def regular_grid(s, gaps):
    d = float(np.median(gaps))
    count = int(np.floor((s[-1] - s[0]) / d + 0.01)) + 1
    return d, s[0] + d * np.arange(count)


def resampled(stack, s, ipp0, normal, iop, spacing):
    """Expected volume and affine after resampling a stack at positions s (sorted, mm)."""
    d, t = regular_grid(s, np.diff(s))
    vol = interp1d(s, stack, axis=0, kind="linear", bounds_error=False, fill_value=(stack[0], stack[-1]))(t)
    return vol, affine_ras(iop, spacing, ipp0, normal * d), d, t


# --- The real sagittal T1 series -----------------------------------------------------------
sag, sag_iop, sag_n = sorted_series(mri / "dicom-brain-t1-sag-35sl")
sag_ipp = np.array([d.ImagePositionPatient for d in sag], float)
sag_px = [d.pixel_array.astype(np.int64) for d in sag]
sag_ps = np.array(sag[0].PixelSpacing, float)
sag_slope = float(getattr(sag[0], "RescaleSlope", 1) or 1)
sag_inter = float(getattr(sag[0], "RescaleIntercept", 0))
sag_stack = np.stack(sag_px).astype(np.float64) * sag_slope + sag_inter

# missing: slice 18 of 35 removed. The regular grid is the original one.
keep = [k for k in range(35) if k != 17]
write_series(out / "missing", sag[0], [sag_px[k] for k in keep], sag_ipp[keep], sag_iop, sag_ps, sag_slope, sag_inter)
s = (sag_ipp[keep] - sag_ipp[0]) @ sag_n
vol, aff, d, t = resampled(sag_stack[keep], s, sag_ipp[0], sag_n, sag_iop, sag_ps)
assert len(t) == 35 and abs(d - 4.8) < 1e-3
true_ras = [(LPS2RAS[:3, :3] @ p).tolist() for p in sag_ipp]  # every original slice is a grid slice
expect("missing", out / "missing", "corrupt_file", vol, aff, true_ras,
       message=["9.600 mm", "4.800 mm", "InstanceNumber 17", "InstanceNumber 18", "--resample-uneven-slices",
                "missing"])

# jitter: +-0.02 mm along the normal (0.4% of the 4.8 mm gap; tolerance 1%) is accepted.
rng = np.random.default_rng(20)
jit = sag_ipp + np.outer(rng.uniform(-0.02, 0.02, 35), sag_n)
write_series(out / "jitter", sag[0], sag_px, jit, sag_iop, sag_ps, sag_slope, sag_inter)
expect("jitter", out / "jitter", "ok", sag_stack, affine_ras(sag_iop, sag_ps, jit[0], (jit[-1] - jit[0]) / 34))

# sheared: each slice 0.5 mm further along the row direction (a 5.9 degree tilt).
shear = sag_ipp + np.outer(np.arange(35) * 0.5, sag_iop[:3])
write_series(out / "sheared", sag[0], sag_px, shear, sag_iop, sag_ps, sag_slope, sag_inter)
expect("sheared", out / "sheared", "unsupported", message=["not along the slice normal", "tilt"])

# --- A NIfTI volume written as a series with gaps 3.5 mm then 4.5 mm -----------------------
img = nib.load(str(mri / "abdomen-lumbar-totalseg" / "example_mr_sm.nii.gz"))
data = np.asarray(img.dataobj).astype(np.int64)
data = data - min(0, data.min())
lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ img.affine
zoom = np.linalg.norm(lps[:3, :3], axis=0)
row_cos, col_cos = lps[:3, 0] / zoom[0], lps[:3, 1] / zoom[1]   # DICOM rows go along i
iop = np.concatenate([row_cos, col_cos])
normal = np.cross(row_cos, col_cos)
nk = data.shape[2]
s = np.concatenate([np.arange(10) * 3.5, 9 * 3.5 + np.arange(1, nk - 9) * 4.5])
ipps = lps[:3, 3] + np.outer(s, normal)
images = [data[:, :, k].T for k in range(nk)]   # [row = j, column = i]
write_series(out / "gaps", sag[0], images, ipps, iop, zoom[[1, 0]])
stack = np.stack(images).astype(np.float64)
vol, aff, d, t = resampled(stack, s, ipps[0], normal, iop, zoom[[1, 0]])
expect("gaps", out / "gaps", "corrupt_file", vol, aff,
       message=["4.500 mm", "3.500 mm", "InstanceNumber", "--resample-uneven-slices"])
man["gaps"]["median_gap"] = d

(out / "manifest.json").write_text(json.dumps(man, indent=1))
print("dicom geometry fixtures:", {k: v["status"] for k, v in man.items()})
