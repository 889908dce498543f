#!/usr/bin/python3
"""Reference for lib/preprocess/sij_recipe (the published chain without N4) on a real MRI
(spine-cervical-sct t1w), computed independently with NumPy/SciPy/PyTorch:
scipy.ndimage.map_coordinates (order 1, cval 0) on the centred grid of lib/image/geometry.h,
np.percentile clip, torch F.interpolate trilinear align_corners=True, z-score (ddof 0), centre
crop, max scale. Every intermediate is written as float32 [D, H, W] raw little-endian, with a
manifest.json listing name -> shape and file, and the affine after each geometric step."""
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
img = nib.load(str(img_path))
vol = np.asarray(img.get_fdata(), np.float64).T.copy()  # [D, H, W]
man = {"image": str(img_path), "cases": {}}


def put(name, arr, affine=None):
    arr = np.ascontiguousarray(arr, dtype="<f4")
    arr.tofile(out / f"{name}.f32")
    case = {"shape_dhw": list(arr.shape), "file": str(out / f"{name}.f32")}
    if affine is not None:
        case["affine"] = [float(x) for x in np.asarray(affine).ravel()]
    man["cases"][name] = case
    return arr


# 1. centred resample to (224, 224, 20) voxels (i, j, k) at (1, 1, 3.5) mm, linear, fill 0:
#    output o samples x = (n_in - 1)/2 + (o - (n_out - 1)/2) * new/old on each axis.
sp_in = np.sqrt((img.affine[:3, :3] ** 2).sum(0))  # (i, j, k)
sp_out = np.array([1.0, 1.0, 3.5])
size_ijk = (224, 224, 20)
n_in = np.array(vol.shape[::-1])
coords = [(n_in[a] - 1) / 2 + (np.arange(size_ijk[a]) - (size_ijk[a] - 1) / 2) * sp_out[a] / sp_in[a] for a in range(3)]
kk, jj, ii = np.meshgrid(coords[2], coords[1], coords[0], indexing="ij")
res = ndimage.map_coordinates(vol, [kk, jj, ii], order=1, mode="constant", cval=0.0)
# affine: new voxel o -> old voxel c_in + (o - c_out) * ratio
T = np.eye(4)
for a in range(3):
    r = sp_out[a] / sp_in[a]
    T[a, a] = r
    T[a, 3] = (n_in[a] - 1) / 2 - (size_ijk[a] - 1) / 2 * r
aff_res = img.affine @ T
res = put("resampled", res, aff_res)

# 2. clip to [min, 99th percentile]
clipped = put("clipped", np.clip(res, res.min(), np.percentile(res, 99)))

# 3a. denoiser: trilinear resize (align_corners) to 20 x 192 x 192, z-score (ddof 0)
t = torch.from_numpy(clipped.astype(np.float32))[None, None]
den = F.interpolate(t, size=(20, 192, 192), mode="trilinear", align_corners=True)[0, 0].numpy()
put("den_resized", den)
d64 = den.astype(np.float64)
put("den_zscore", (d64 - d64.mean()) / d64.std())

# 3b. classifier: centre crop to 16 x 172 x 172 (2 off each end in D, 26 in H and W here since the
#     grid is 224: offset floor((n_in - n_out) / 2)), resize to 16 x 192 x 192, divide by max
off = [(a - b) // 2 for a, b in zip(clipped.shape, (16, 172, 172))]
crop = clipped[off[0]:off[0] + 16, off[1]:off[1] + 172, off[2]:off[2] + 172]
put("cls_cropped", crop)
cls = F.interpolate(torch.from_numpy(np.ascontiguousarray(crop))[None, None], size=(16, 192, 192),
                    mode="trilinear", align_corners=True)[0, 0].numpy()
put("cls_resized", cls)
put("cls_maxscaled", cls.astype(np.float64) / cls.max())

(out / "manifest.json").write_text(json.dumps(man, indent=1))
print(f"wrote {len(man['cases'])} recipe cases to {out}")
