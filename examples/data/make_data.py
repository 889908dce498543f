#!/usr/bin/python3
"""Rebuild examples/data/ from tests/data/mri (the public MRI volumes the tests read).

Copies the small files as they are (byte-identical) and makes one modification:
brain-t1-chris/chris_t1.nii.gz (188x256x190 at 0.88 mm, 4.2 MB) is reduced by 2x2x2 block
averaging to 94x128x95 at 1.76 mm (uint8, rounded), with the affine updated so that the voxel
centres stay in the same world frame. Run: /usr/bin/python3 examples/data/make_data.py [SRC]
"""
import hashlib
import os
import shutil
import sys

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SRC = os.path.normpath(os.path.join(HERE, "..", "..", "tests", "data", "mri"))

COPIES = {
    "spine-cervical-sct": ["t1/t1w.nii.gz", "t1/t1w_seg-manual.nii.gz", "t2/t2.nii.gz",
                           "t2/t2_seg-manual.nii.gz", "LICENSE-sct_testing_data.txt"],
    "orientation-icbm152-48": ["RAS.nii.gz", "LAS.nii.gz", "LPS.nii.gz", "RPI.nii.gz",
                               "PSR.nii.gz", "AIL.nii.gz", "LICENSE-niivue.txt"],
    "abdomen-lumbar-totalseg": ["example_mr_sm.nii.gz", "example_seg_mr.nii.gz",
                                "LICENSE-TotalSegmentator.txt"],
    "brain-t1-chris": ["LICENSE-niivue.txt"],
}


def downsample2(src_path, dst_path):
    img = nib.load(src_path)
    data = np.asarray(img.dataobj).astype(np.float64)
    shp = [s // 2 * 2 for s in data.shape]
    d = data[:shp[0], :shp[1], :shp[2]]
    d = d.reshape(shp[0] // 2, 2, shp[1] // 2, 2, shp[2] // 2, 2).mean(axis=(1, 3, 5))
    aff = img.affine.copy()
    # new voxel i covers old voxels 2i, 2i+1: centre at old index 2i + 0.5
    shift = aff[:3, :3] @ np.array([0.5, 0.5, 0.5])
    aff[:3, :3] = aff[:3, :3] * 2.0
    aff[:3, 3] = aff[:3, 3] + shift
    out = nib.Nifti1Image(np.clip(np.rint(d), 0, 255).astype(np.uint8), aff)
    out.header.set_xyzt_units("mm", "sec")
    out.set_qform(aff, code=2)
    out.set_sform(aff, code=2)
    nib.save(out, dst_path)


def sha16(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SRC
    for folder, files in COPIES.items():
        os.makedirs(os.path.join(HERE, folder), exist_ok=True)
        for rel in files:
            dst = os.path.join(HERE, folder, os.path.basename(rel))
            shutil.copyfile(os.path.join(src, folder, rel), dst)
    dst = os.path.join(HERE, "brain-t1-chris", "chris_t1_1p76mm.nii.gz")
    downsample2(os.path.join(src, "brain-t1-chris", "chris_t1.nii.gz"), dst)
    for folder in sorted(COPIES):
        for name in sorted(os.listdir(os.path.join(HERE, folder))):
            p = os.path.join(HERE, folder, name)
            print(f"{folder}/{name}\t{os.path.getsize(p)}\t{sha16(p)}")


if __name__ == "__main__":
    main()
