#!/usr/bin/python3
"""Reference results for lib/image on a real MRI (spine-cervical-sct t1w, 42x76x77 int16) and
its cord mask: torch F.interpolate (trilinear align_corners True/False, nearest), scipy
map_coordinates for centred physical resampling, numpy percentile/clip/z-score/max-scale,
numpy centre crop/pad. Arrays are float32 [D, H, W] (file order), raw little-endian."""
import json
import os
import pathlib
import sys

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
data_dir = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR", pathlib.Path(__file__).resolve().parents[1] / "data"))
img_path = data_dir / "mri/spine-cervical-sct/t1/t1w.nii.gz"
mask_path = data_dir / "mri/spine-cervical-sct/t1/t1w_seg-manual.nii.gz"
img = nib.load(str(img_path))
vol = np.asarray(img.get_fdata(), np.float64).T.copy()  # [D, H, W]
mask = np.asarray(nib.load(str(mask_path)).get_fdata(), np.float64).T.copy()
man = {"image": str(img_path), "mask": str(mask_path), "cases": {}}


def put(name, arr, **extra):
    arr = np.ascontiguousarray(arr, dtype="<f4")
    arr.tofile(out / f"{name}.f32")
    man["cases"][name] = {"shape_dhw": list(arr.shape), "file": str(out / f"{name}.f32"), **extra}


t = torch.from_numpy(vol.astype(np.float32))[None, None]
size_dhw = (50, 60, 33)
for ac in (True, False):
    r = F.interpolate(t, size=size_dhw, mode="trilinear", align_corners=ac)[0, 0].numpy()
    put(f"resize_trilinear_ac{int(ac)}", r)
r = F.interpolate(torch.from_numpy(mask.astype(np.float32))[None, None], size=size_dhw, mode="nearest")[0, 0].numpy()
put("resize_nearest_mask", r)

# centred physical resampling: output o samples x = c_in + (o - c_out) * new/old per axis
sp_in = np.sqrt((img.affine[:3, :3] ** 2).sum(0))  # (i, j, k)


def centred(v, sp_out_ijk, size_ijk, order):
    n_in = np.array(v.shape[::-1])
    coords = []
    for a in range(3):
        o = np.arange(size_ijk[a])
        coords.append((n_in[a] - 1) / 2 + (o - (size_ijk[a] - 1) / 2) * sp_out_ijk[a] / sp_in[a])
    kk, jj, ii = np.meshgrid(coords[2], coords[1], coords[0], indexing="ij")
    return ndimage.map_coordinates(v, [kk, jj, ii], order=order, mode="constant", cval=0.0)


for name, sp, size in (("resample_linear_aniso", (1.3, 0.7, 2.1), None),
                       ("resample_linear_sij_recipe", (1.0, 1.0, 3.5), (84, 96, 20))):
    if size is None:
        size = tuple(int(max(1, round(n * s0 / s1))) for n, s0, s1 in zip(vol.shape[::-1], sp_in, sp))
    put(name, centred(vol, sp, size, 1), spacing_ijk=list(sp), size_ijk=list(size))
sp = (1.3, 0.7, 2.1)
size = tuple(int(max(1, round(n * s0 / s1))) for n, s0, s1 in zip(vol.shape[::-1], sp_in, sp))
put("resample_nearest_mask", centred(mask, sp, size, 0), spacing_ijk=list(sp), size_ijk=list(size))

flat = vol.ravel()
man["percentiles"] = {str(p): float(np.percentile(flat.astype(np.float32), p)) for p in (0, 0.5, 25, 50, 99, 99.9, 100)}
put("clip_0_99", np.clip(vol, flat.min(), np.percentile(vol.astype(np.float32), 99)))
put("zscore_whole", (vol - vol.mean()) / vol.std())
put("zscore_whole_ddof1", (vol - vol.mean()) / vol.std(ddof=1))
m = mask > 0.5
put("zscore_mask", (vol - vol[m].mean()) / vol[m].std())
put("max_scale", vol / vol.max())

# centre crop/pad to (i, j, k) = (30, 80, 70): offset floor((n_in - n_out) / 2), fill -1
size = (30, 80, 70)
res = np.full(size[::-1], -1.0)
n_in = vol.shape[::-1]
src_sl, dst_sl = [], []
for a in (2, 1, 0):
    off = (n_in[a] - size[a]) // 2
    lo, hi = max(0, -off), min(size[a], n_in[a] - off)
    dst_sl.append(slice(lo, hi))
    src_sl.append(slice(lo + off, hi + off))
res[tuple(dst_sl)] = vol[tuple(src_sl)]
put("crop_pad", res, size_ijk=list(size))
(out / "manifest.json").write_text(json.dumps(man, indent=1))
print("image fixtures:", len(man["cases"]))
