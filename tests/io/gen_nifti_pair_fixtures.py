#!/usr/bin/python3
"""Two-file images and NaN scaling fields, written and read by nibabel (the oracle) from a real
volume in tests/data/mri, for tests/io/nifti_pair_test.cpp:
  nifti-pair    Nifti1Pair (.hdr 'ni1' + .img), qform/sform from the source
  analyze       AnalyzeImage (.hdr + .img, no orientation: nibabel's centred, x-flipped affine)
  analyze-spm   Analyze with SPM's origin field set (nibabel's Spm2AnalyzeImage uses it)
  nan-slope     .nii with scl_slope NaN: nibabel does not scale
  nan-inter     .nii with scl_slope 2, scl_inter NaN: nibabel refuses (HeaderDataError)
  no-img        a .hdr whose .img is missing
  n+1-as-hdr    a single-file NIfTI header named .hdr (nifti_clib would take its voxels from it)
manifest.json: per case the path to give, the status ("ok" or the expected error) and, for "ok",
nibabel's affine and voxels (float32, [k, j, i] C order = the engine's [z, y, x])."""
import json
import os
import pathlib
import shutil
import sys

import nibabel as nib
import numpy as np

out = pathlib.Path(sys.argv[1])
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
data_dir = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR", pathlib.Path(__file__).resolve().parents[1] / "data"))
src = nib.load(str(data_dir / "mri" / "brain-t1-tiny-monai" / "anatomical.nii"))
raw = np.asarray(src.dataobj).astype("<i2")
man = {}


def oracle(name, path, given=None):
    """What nibabel makes of the file: its voxels and affine, or that it refuses."""
    e = {"path": str(given or path)}
    try:
        img = nib.load(str(path))
        vol = np.asarray(img.get_fdata(), np.float64)
    except nib.spatialimages.HeaderDataError as err:
        e["status"] = "corrupt_file"
        e["nibabel"] = str(err)
    else:
        ref = out / f"{name}.f32"
        np.ascontiguousarray(vol.transpose(2, 1, 0), "<f4").tofile(ref)
        e.update({"status": "ok", "affine": img.affine.ravel().tolist(), "ref": str(ref), "shape_ijk": list(vol.shape)})
    man[name] = e


nib.Nifti1Pair(raw, src.affine).to_filename(str(out / "pair.hdr"))
oracle("nifti-pair", out / "pair.hdr")
man["nifti-pair-by-img"] = dict(man["nifti-pair"], path=str(out / "pair.img"))
nib.AnalyzeImage(raw, src.affine).to_filename(str(out / "analyze.hdr"))
oracle("analyze", out / "analyze.hdr")
spm = nib.Spm2AnalyzeImage(raw, None)
spm.header.set_zooms((1.5, 2.0, 2.5))
spm.header["origin"][:3] = [10, 12, 5]
spm.header["scl_slope"] = 1.0
spm.to_filename(str(out / "analyze_spm.hdr"))
oracle("analyze-spm", out / "analyze_spm.hdr")
assert np.allclose(nib.load(str(out / "analyze_spm.hdr")).affine[:3, 3], [9 * 1.5, -11 * 2.0, -4 * 2.5])

for name, slope, inter in (("nan-slope", np.nan, 5.0), ("nan-inter", 2.0, np.nan)):
    img = nib.Nifti1Image(raw, src.affine)
    img.header.set_data_dtype(np.int16)
    path = out / f"{name}.nii"
    img.to_filename(str(path))
    with open(path, "r+b") as f:  # raw header fields: nibabel's writer would normalise them
        f.seek(112)
        f.write(np.array([slope, inter], "<f4").tobytes())
    oracle(name, path)
assert man["nan-slope"]["status"] == "ok" and man["nan-inter"]["status"] == "corrupt_file"

nib.Nifti1Image(raw, src.affine).to_filename(str(out / "single.nii"))
shutil.copy(out / "single.nii", out / "single_as_pair.hdr")   # 'n+1' header named .hdr
shutil.copy(out / "single.nii", out / "single_as_pair.img")
man["n+1-as-hdr"] = {"path": str(out / "single_as_pair.hdr"), "status": "unsupported"}
shutil.copy(out / "pair.hdr", out / "lonely.hdr")
man["no-img"] = {"path": str(out / "lonely.hdr"), "status": "io_error"}
(out / "manifest.json").write_text(json.dumps(man, indent=1))
print("nifti pair fixtures:", {k: v["status"] for k, v in man.items()})
