#!/usr/bin/python3
"""DICOMDIR exports for tests/io/dicomdir_test.cpp and tests/cli/test_cli_dicomdir.py, written by
pydicom's FileSet API from series made of the real data:
  direct/t1/    #3  t1_fl2d_sag   the real sagittal T1 (35 slices), new UIDs
  direct/loc/   #1  localizer     the real 3-slice axial series, ImageType LOCALIZER
  direct/stir/  #5  stir_tra      a NIfTI volume (20 slices) as an IR series, TI 150 ms
  export/       FileSet.write() of the three: DICOMDIR + PT000000/ST000000/SE00000n/IM00000m
  lower/        the same export with every name lower-cased (as some copies of a CD are)
  missing/      the export with one image deleted (its ReferencedFileID in the manifest)
  outside/      the export whose DICOMDIR names one image as ..\\direct\\...   (must be refused)
  absolute/     the export whose DICOMDIR names one image as \\ETC\\...        (must be refused)
manifest.json: the folders, and pydicom's FileSet reading (series UID -> files) of the export and
of pydicom's own DICOMDIR test files (pydicom.data: dicomdirtests/DICOMDIR and its big-endian,
implicit-VR, offset-less and reordered variants, and TINY_ALPHA/DICOMDIR), with the series'
number, description and modality from the files themselves."""
import copy
import json
import os
import pathlib
import shutil
import sys
import warnings

import nibabel as nib
import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.fileset import FileSet
from pydicom.uid import generate_uid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dicom_writer import write_series  # noqa: E402

warnings.simplefilter("ignore")  # pydicom warns on the variants' transfer syntaxes
out = pathlib.Path(sys.argv[1]).resolve()
shutil.rmtree(out, ignore_errors=True)
data_dir = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR", pathlib.Path(__file__).resolve().parents[1] / "data"))
mri = data_dir / "mri"
direct = out / "direct"
patient = {"PatientID": "VX-DICOMDIR-1", "PatientName": "Test^Dicomdir", "StudyInstanceUID": generate_uid(),
           "StudyID": "1"}


def recode(src_folder, dst, number, description, **attrs):
    dst.mkdir(parents=True, exist_ok=True)
    uid = generate_uid()
    for p in sorted(src_folder.glob("*.dcm")):
        ds = copy.deepcopy(pydicom.dcmread(str(p)))
        ds.SeriesInstanceUID = uid
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.SeriesNumber = number
        ds.SeriesDescription = description
        for k, v in {**patient, **attrs}.items():
            setattr(ds, k, v)
        ds.save_as(str(dst / p.name), write_like_original=False)


recode(mri / "dicom-brain-t1-sag-35sl", direct / "t1", 3, "t1_fl2d_sag")
recode(mri / "dicom-brain-t1-vsseg-3sl", direct / "loc", 1, "localizer", ImageType=["ORIGINAL", "PRIMARY", "M", "LOCALIZER"])
img = nib.load(str(mri / "abdomen-lumbar-totalseg" / "example_mr_sm.nii.gz"))
vox = np.asarray(img.dataobj).astype(np.int64)
vox -= min(0, vox.min())
lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ img.affine
zoom = np.linalg.norm(lps[:3, :3], axis=0)
iop = np.concatenate([lps[:3, 0] / zoom[0], lps[:3, 1] / zoom[1]])
template = pydicom.dcmread(str(sorted((mri / "dicom-brain-t1-sag-35sl").glob("*.dcm"))[0]))
write_series(direct / "stir", template, [vox[:, :, k].T for k in range(vox.shape[2])],
             [lps[:3, :3] @ [0, 0, k] + lps[:3, 3] for k in range(vox.shape[2])], iop, zoom[[1, 0]],
             SeriesNumber=5, SeriesDescription="stir_tra", ScanningSequence="IR", SequenceVariant="SK",
             SequenceName="*tir2d1", InversionTime="150", ScanOptions="IR", **patient)

fs = FileSet()
for p in sorted(direct.rglob("*.dcm")):
    fs.add(str(p))
fs.write(str(out / "export"))


def fileset_series(dicomdir):
    """pydicom's FileSet reading: SeriesInstanceUID -> sorted absolute paths, and per series the
    number, description and modality of its first file."""
    groups = {}
    for inst in FileSet(pydicom.dcmread(str(dicomdir))):
        groups.setdefault(str(inst.SeriesInstanceUID), []).append(str(pathlib.Path(inst.path).resolve()))
    series = []
    for uid, files in groups.items():
        ds = pydicom.dcmread(files[0], stop_before_pixels=True)
        series.append({"uid": uid, "number": str(ds.get("SeriesNumber", "")), "description": str(ds.get("SeriesDescription", "")),
                       "modality": str(ds.Modality), "files": sorted(files)})
    return series


man = {"export": str(out / "export"), "direct": {}, "series": fileset_series(out / "export" / "DICOMDIR"), "pydicom": []}
for s in man["series"]:
    for name in ("t1", "loc", "stir"):
        if pydicom.dcmread(str(next((direct / name).iterdir())), stop_before_pixels=True).SeriesInstanceUID == s["uid"]:
            s["direct"] = str(direct / name)
assert len(man["series"]) == 3 and all("direct" in s for s in man["series"])


def lower_copy(src, dst):
    for p in sorted(src.rglob("*")):
        if p.is_file():
            target = dst / pathlib.Path(*[c.lower() for c in p.relative_to(src).parts])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(p, target)


lower_copy(out / "export", out / "lower")
man["lower"] = str(out / "lower")

shutil.copytree(out / "export", out / "missing")
dd = pydicom.dcmread(str(out / "missing" / "DICOMDIR"))
gone = [r for r in dd.DirectoryRecordSequence if r.DirectoryRecordType == "IMAGE"][4].ReferencedFileID
(out / "missing" / pathlib.Path(*gone)).unlink()
man["missing"], man["missing_id"] = str(out / "missing"), "\\".join(gone)

# Rewritten in place, byte for byte with the same length, so the records' offsets stay right.
for name, prefix in (("outside", "..\\export\\"), ("absolute", "\\")):
    shutil.copytree(out / "export", out / name)
    dd = pydicom.dcmread(str(out / name / "DICOMDIR"))
    orig = "\\".join([r for r in dd.DirectoryRecordSequence if r.DirectoryRecordType == "IMAGE"][2].ReferencedFileID)
    raw = (out / name / "DICOMDIR").read_bytes()
    assert raw.count(orig.encode()) == 1
    (out / name / "DICOMDIR").write_bytes(raw.replace(orig.encode(), (prefix + orig)[:len(orig)].encode()))
    man[name] = str(out / name)

tests = pathlib.Path(get_testdata_file("DICOMDIR")).parent
for variant in ("DICOMDIR", "DICOMDIR-bigEnd", "DICOMDIR-implicit", "DICOMDIR-nooffset", "DICOMDIR-reordered",
                "TINY_ALPHA/DICOMDIR"):
    man["pydicom"].append({"dicomdir": str(tests / variant), "series": fileset_series(tests / variant)})
(out / "manifest.json").write_text(json.dumps(man, indent=1))
print("dicomdir fixtures:", [(s["number"], s["description"], len(s["files"])) for s in man["series"]],
      [(v["dicomdir"].split("/")[-1], len(v["series"])) for v in man["pydicom"]])
