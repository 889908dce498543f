#!/usr/bin/python3
"""pydicom reference for the three DICOM sets under tests/data/mri: voxels [slice, row,
column] sorted by ImagePositionPatient on the slice normal, rescaled; affine in RAS (LPS
with x, y negated) for voxel (i, j, k) = (column, row, slice). Also hostile folders: empty,
mixed series, no DICOM at all, duplicate slice."""
import json
import os
import pathlib
import shutil
import sys

import numpy as np
import pydicom
import pydicom.encaps

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
data_dir = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR", pathlib.Path(__file__).resolve().parents[1] / "data"))
mri = data_dir / "mri"
man = {"valid": [], "hostile": []}


def frames_single(folder):
    out_frames = []
    for p in sorted(folder.iterdir()):
        try:
            ds = pydicom.dcmread(str(p))
        except pydicom.errors.InvalidDicomError:
            continue
        slope = float(getattr(ds, "RescaleSlope", 1) or 1)
        inter = float(getattr(ds, "RescaleIntercept", 0))
        out_frames.append((np.array(ds.ImagePositionPatient, float), ds.pixel_array.astype(np.float64) * slope + inter,
                           np.array(ds.ImageOrientationPatient, float), np.array(ds.PixelSpacing, float)))
    return out_frames


def frames_enhanced(path):
    ds = pydicom.dcmread(str(path))
    shared = ds.SharedFunctionalGroupsSequence[0]
    px = ds.pixel_array
    res = []
    for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        def grab(seq, attr):
            for grp in (item, shared):
                if seq in grp and attr in grp[seq][0]:
                    return grp[seq][0][attr].value
            return None
        ipp = np.array(grab("PlanePositionSequence", "ImagePositionPatient"), float)
        iop = np.array(grab("PlaneOrientationSequence", "ImageOrientationPatient"), float)
        ps = np.array(grab("PixelMeasuresSequence", "PixelSpacing"), float)
        slope = grab("PixelValueTransformationSequence", "RescaleSlope")
        inter = grab("PixelValueTransformationSequence", "RescaleIntercept")
        slope = float(slope) if slope not in (None, 0) else 1.0
        inter = float(inter) if inter is not None else 0.0
        res.append((ipp, px[f].astype(np.float64) * slope + inter, iop, ps))
    return res


def add(name, frames):
    iop, ps = frames[0][2], frames[0][3]
    r, c = iop[:3], iop[3:]
    normal = np.cross(r, c)
    frames = sorted(frames, key=lambda f: float(np.dot(f[0], normal)))
    vol = np.stack([f[1] for f in frames])  # [slice, row, col]
    lps = np.eye(4)
    lps[:3, 0] = r * ps[1]
    lps[:3, 1] = c * ps[0]
    lps[:3, 2] = (frames[-1][0] - frames[0][0]) / (len(frames) - 1)
    lps[:3, 3] = frames[0][0]
    ras = np.diag([-1, -1, 1, 1]) @ lps
    f = out / f"{name}.f32"
    np.ascontiguousarray(vol, "<f4").tofile(f)
    man["valid"].append({"name": name, "shape_dhw": list(vol.shape), "affine": ras.ravel().tolist(), "ref": str(f)})


for name in ("dicom-brain-t1-sag-35sl", "dicom-brain-t1-vsseg-3sl"):
    add(name, frames_single(mri / name))
    man["valid"][-1]["path"] = str(mri / name)
add("dicom-enhanced-multiframe", frames_enhanced(mri / "dicom-enhanced-multiframe/enh.dcm"))
man["valid"][-1]["path"] = str(mri / "dicom-enhanced-multiframe/enh.dcm")

# Re-encodings of the 3-slice series that exercise the pixel decoders: Explicit VR Big Endian
# (pixel bytes swapped, as the standard stores OW there), signed 12-bit samples whose four
# unused high bits carry junk (overlay bits) that a reader must mask off, and RLE Lossless
# (encapsulated fragments, decoded by GDCM's codec). The expected voxels come from the
# original pixel values, not from any reader.
from pydicom.uid import ExplicitVRBigEndian, RLELossless  # noqa: E402

variants = {"dicom-big-endian": out / "dicom-big-endian", "dicom-signed-12bit-junk-high-bits": out / "dicom-signed12",
            "dicom-rle-lossless": out / "dicom-rle"}
for folder in variants.values():
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
frames_be, frames_s12, frames_rle = [], [], []
for p in sorted((mri / "dicom-brain-t1-vsseg-3sl").glob("*.dcm")):
    ds = pydicom.dcmread(str(p))
    px = ds.pixel_array.astype(np.int64)
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    inter = float(getattr(ds, "RescaleIntercept", 0))
    geo = (np.array(ds.ImagePositionPatient, float), np.array(ds.ImageOrientationPatient, float),
           np.array(ds.PixelSpacing, float))
    be = pydicom.dcmread(str(p))
    be.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    be.is_little_endian, be.is_implicit_VR = False, False
    be.PixelData = px.astype(">u2").tobytes()
    be.save_as(str(variants["dicom-big-endian"] / p.name), write_like_original=False)
    frames_be.append((geo[0], px * slope + inter, geo[1], geo[2]))
    s12 = pydicom.dcmread(str(p))
    signed = px - 2048                                   # fits 12-bit two's complement
    junk = (np.arange(px.size).reshape(px.shape) % 16) << 12
    s12.PixelRepresentation = 1
    s12.PixelData = (((signed & 0xFFF) | junk).astype("<u2")).tobytes()
    s12.save_as(str(variants["dicom-signed-12bit-junk-high-bits"] / p.name))
    frames_s12.append((geo[0], signed * slope + inter, geo[1], geo[2]))
    rle = pydicom.dcmread(str(p))
    rle.compress(RLELossless, px.astype(rle.pixel_array.dtype))
    rle.save_as(str(variants["dicom-rle-lossless"] / p.name))
    frames_rle.append((geo[0], px * slope + inter, geo[1], geo[2]))
for (name, folder), frames in zip(variants.items(), (frames_be, frames_s12, frames_rle)):
    add(name, frames)
    man["valid"][-1]["path"] = str(folder)

hostile = out / "hostile"
shutil.rmtree(hostile, ignore_errors=True)
(hostile / "empty").mkdir(parents=True)
man["hostile"].append({"path": str(hostile / "empty"), "status": "corrupt_file", "what": "empty folder"})
(hostile / "mixed").mkdir()
sag = sorted((mri / "dicom-brain-t1-sag-35sl").glob("*.dcm"))
for p in sag[:2] + sorted((mri / "dicom-brain-t1-vsseg-3sl").glob("*.dcm"))[:1]:
    shutil.copy(p, hostile / "mixed" / p.name)
man["hostile"].append({"path": str(hostile / "mixed"), "status": "invalid_argument", "what": "two series"})
(hostile / "no_dicom").mkdir()
(hostile / "no_dicom" / "notes.txt").write_text("not an image\n")
(hostile / "no_dicom" / "fake.dcm").write_bytes(b"\0" * 200)
man["hostile"].append({"path": str(hostile / "no_dicom"), "status": "corrupt_file", "what": "no DICOM files"})
(hostile / "duplicate").mkdir()
shutil.copy(sag[0], hostile / "duplicate" / "a.dcm")
shutil.copy(sag[0], hostile / "duplicate" / "b.dcm")
man["hostile"].append({"path": str(hostile / "duplicate"), "status": "corrupt_file", "what": "duplicate position"})
man["hostile"].append({"path": str(hostile / "missing"), "status": "io_error", "what": "no such path"})
# A JPEG Lossless file whose fragments are the RLE ones: the stream must be refused as damaged
# before it reaches GDCM's JPEG decoder (which aborts the process on some damaged streams).
(hostile / "jpeg").mkdir()
jpeg = pydicom.dcmread(str(sorted(variants["dicom-rle-lossless"].glob("*.dcm"))[0]))
jpeg.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.70"
jpeg.save_as(str(hostile / "jpeg" / "jpeg_lossless.dcm"))
man["hostile"].append({"path": str(hostile / "jpeg"), "status": "corrupt_file", "what": "JPEG syntax over RLE fragments"})
# An RLE file whose first segment offset points past its fragment.
(hostile / "rle_bad_offset").mkdir()
bad = pydicom.dcmread(str(sorted(variants["dicom-rle-lossless"].glob("*.dcm"))[0]))
frag = bytearray(pydicom.encaps.defragment_data(bad.PixelData))
frag[4:8] = (len(frag) + 100).to_bytes(4, "little")
bad.PixelData = pydicom.encaps.encapsulate([bytes(frag)])
bad.save_as(str(hostile / "rle_bad_offset" / "rle.dcm"))
man["hostile"].append({"path": str(hostile / "rle_bad_offset"), "status": "corrupt_file", "what": "RLE offset past fragment"})
(out / "manifest.json").write_text(json.dumps(man, indent=1))
print("dicom fixtures:", [(v["name"], v["shape_dhw"]) for v in man["valid"]])
