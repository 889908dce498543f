#!/usr/bin/python3
"""References for lib/pipeline: scipy.ndimage.label (6- and 26-connectivity) on a random
mask and on the real spine cord mask, torch softmax/sigmoid/argmax on random logits, numpy
Dice/IoU. Raw float32 little-endian arrays in [D, H, W] / [K, D, H, W] order."""
import json
import os
import pathlib
import sys

import nibabel as nib
import numpy as np
import torch
from scipy import ndimage

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
data_dir = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR", pathlib.Path(__file__).resolve().parents[1] / "data"))
rng = np.random.default_rng(7)
man = {}


def put(name, arr):
    arr = np.ascontiguousarray(arr, dtype="<f4")
    arr.tofile(out / f"{name}.f32")
    return {"file": str(out / f"{name}.f32"), "shape": list(arr.shape)}


mask = (rng.uniform(size=(12, 14, 16)) < 0.3).astype(np.float32)
man["random_mask"] = put("random_mask", mask)
for conn, structure in ((6, ndimage.generate_binary_structure(3, 1)), (26, np.ones((3, 3, 3)))):
    lab, n = ndimage.label(mask, structure=structure)
    sizes = np.bincount(lab.ravel())[1:]
    man[f"cc{conn}"] = {"count": int(n), "sizes_sorted": sorted(sizes.tolist(), reverse=True),
                        **put(f"cc{conn}_labels", lab)}
    largest = (lab == (np.argmax(sizes) + 1)).astype(np.float32)
    man[f"largest{conn}"] = put(f"largest{conn}", largest)

cord_path = data_dir / "mri/spine-cervical-sct/t2/t2_seg-manual.nii.gz"
cord = np.asarray(nib.load(str(cord_path)).get_fdata()).T
lab, n = ndimage.label(cord > 0.5, structure=np.ones((3, 3, 3)))
man["cord"] = {"path": str(cord_path), "count26": int(n), "voxels": int((cord > 0.5).sum())}

logits = rng.normal(0, 3, size=(3, 5, 6, 7)).astype(np.float32)
man["logits"] = put("logits", logits)
t = torch.from_numpy(logits)
man["softmax"] = put("softmax", torch.softmax(t, dim=0).numpy())
man["sigmoid"] = put("sigmoid", torch.sigmoid(t).numpy())
man["argmax"] = put("argmax", torch.argmax(t, dim=0).numpy().astype(np.float32))

a = (rng.uniform(size=(9, 10, 11)) < 0.4).astype(np.float32)
b = (rng.uniform(size=(9, 10, 11)) < 0.4).astype(np.float32)
man["a"], man["b"] = put("dice_a", a), put("dice_b", b)
inter = float((a * b).sum())
man["dice"] = 2 * inter / float(a.sum() + b.sum())
man["iou"] = inter / float(((a + b) > 0).sum())
(out / "manifest.json").write_text(json.dumps(man, indent=1))
print("pipeline fixtures written")
