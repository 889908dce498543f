#!/usr/bin/python3
"""A nested export holding four DICOM series, written by pydicom from the real data, for
tests/io/dicom_series_test.cpp and tests/cli/test_cli_series.py:
  exam/DICOM/S3/         #3   t1_fl2d_sag       the real sagittal T1 (35 slices) re-encoded
                                                  as Implicit VR Little Endian, new UIDs
  exam/DICOM/S3/ (same)  #103 t1_fl2d_sag_copy  the same images again as another series
  exam/DICOM/S1/         #1   localizer         the real 3-slice axial series, ImageType LOCALIZER
  exam/DICOM/S5/a/b/     #5   stir_tra          a NIfTI volume (20 slices) as an IR series,
                                                  TI 150 ms (STIR), two folders further down
manifest.json: per series (pydicom's grouping by SeriesInstanceUID) its UID, number,
description, modality, size, spacing, orientation (from the direction cosines here), hints,
and the reference voxels (sorted along the normal, rescaled, float32 [slice, row, column])."""
import copy
import json
import os
import pathlib
import shutil
import sys

import nibabel as nib
import numpy as np
import pydicom
from pydicom.uid import ImplicitVRLittleEndian, generate_uid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dicom_writer import write_series  # noqa: E402

out = pathlib.Path(sys.argv[1])
shutil.rmtree(out, ignore_errors=True)
exam = out / "exam"
data_dir = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR", pathlib.Path(__file__).resolve().parents[1] / "data"))
mri = data_dir / "mri"


def recode(src_folder, dst, number, description, implicit=False, **attrs):
    dst.mkdir(parents=True, exist_ok=True)
    uid = generate_uid()
    for p in sorted(src_folder.glob("*.dcm")):
        ds = pydicom.dcmread(str(p))
        ds = copy.deepcopy(ds)
        ds.SeriesInstanceUID = uid
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.SeriesNumber = number
        ds.SeriesDescription = description
        for k, v in attrs.items():
            setattr(ds, k, v)
        if implicit:
            ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
            ds.is_little_endian, ds.is_implicit_VR = True, True
        ds.save_as(str(dst / f"{number}_{p.name}"), write_like_original=False)
    return uid


hints = {}
uid_t1 = recode(mri / "dicom-brain-t1-sag-35sl", exam / "DICOM" / "S3", 3, "t1_fl2d_sag", implicit=True)
hints[uid_t1] = []
uid_copy = recode(mri / "dicom-brain-t1-sag-35sl", exam / "DICOM" / "S3", 103, "t1_fl2d_sag_copy")
hints[uid_copy] = []
uid_loc = recode(mri / "dicom-brain-t1-vsseg-3sl", exam / "DICOM" / "S1", 1, "localizer",
                 ImageType=["ORIGINAL", "PRIMARY", "M", "LOCALIZER"])
hints[uid_loc] = ["inversion_recovery", "localizer"]   # the source is an MPRAGE (GR\IR, TI 1100 ms)

img = nib.load(str(mri / "abdomen-lumbar-totalseg" / "example_mr_sm.nii.gz"))
data = np.asarray(img.dataobj).astype(np.int64)
data -= min(0, data.min())
lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ img.affine
zoom = np.linalg.norm(lps[:3, :3], axis=0)
iop = np.concatenate([lps[:3, 0] / zoom[0], lps[:3, 1] / zoom[1]])
template = pydicom.dcmread(str(sorted((mri / "dicom-brain-t1-sag-35sl").glob("*.dcm"))[0]))
uid_stir = write_series(exam / "DICOM" / "S5" / "a" / "b", template, [data[:, :, k].T for k in range(data.shape[2])],
                        [lps[:3, :3] @ [0, 0, k] + lps[:3, 3] for k in range(data.shape[2])], iop, zoom[[1, 0]],
                        SeriesNumber=5, SeriesDescription="stir_tra", ScanningSequence="IR", SequenceVariant="SK",
                        SequenceName="*tir2d1", InversionTime="150", ScanOptions="IR")
hints[uid_stir] = ["inversion_recovery", "stir", "fat_suppressed"]
(exam / "DICOM" / "README.txt").write_text("not DICOM\n")

# pydicom's grouping, independent of the reader under test.
groups = {}
for p in sorted(exam.rglob("*")):
    if not p.is_file():
        continue
    try:
        ds = pydicom.dcmread(str(p))
    except pydicom.errors.InvalidDicomError:
        continue
    groups.setdefault(ds.SeriesInstanceUID, []).append(ds)


def orientation(iop):
    n = np.cross(iop[:3], iop[3:])
    axis = int(np.argmax(np.abs(n)))
    if abs(n[axis]) < np.cos(np.radians(20)):
        return "oblique"
    return ["sagittal", "coronal", "axial"][axis]


man = {"exam": str(exam), "series": []}
for uid, dss in groups.items():
    iop = np.array(dss[0].ImageOrientationPatient, float)
    n = np.cross(iop[:3], iop[3:])
    dss.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, float), n)))
    vol = np.stack([d.pixel_array.astype(np.float64) * float(getattr(d, "RescaleSlope", 1) or 1)
                    + float(getattr(d, "RescaleIntercept", 0)) for d in dss])
    s = np.array([np.dot(np.array(d.ImagePositionPatient, float), n) for d in dss])
    ref = out / f"series_{dss[0].SeriesNumber}.f32"
    np.ascontiguousarray(vol, "<f4").tofile(ref)
    ps = np.array(dss[0].PixelSpacing, float)
    man["series"].append({"uid": uid, "number": str(dss[0].SeriesNumber), "description": str(dss[0].SeriesDescription),
                          "modality": str(dss[0].Modality), "size": [int(dss[0].Columns), int(dss[0].Rows), len(dss)],
                          "spacing_mm": [ps[1], ps[0], float(np.median(np.diff(s)))], "orientation": orientation(iop),
                          "hints": hints[uid], "shape_dhw": list(vol.shape), "ref": str(ref)})
assert len(man["series"]) == 4
(out / "manifest.json").write_text(json.dumps(man, indent=1))
print("dicom series fixtures:", [(s["number"], s["description"], s["orientation"], s["size"]) for s in man["series"]])
