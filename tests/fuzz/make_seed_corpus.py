#!/usr/bin/python3
"""Writes the small seed corpora of the NIfTI and DICOM fuzz targets (tests/fuzz/corpus/).

Run once by hand when the readers learn a new feature; the output is committed. Seeds are
tiny so each fuzz iteration is fast: a few voxels in every layout the readers accept
(NIfTI-1/-2, both byte orders, every datatype, extensions, gzip) and DICOM files cropped
from tests/data to 8x8 pixels (single-frame implicit VR, big endian, signed 12-bit, RLE;
enhanced multi-frame explicit VR).
Usage: /usr/bin/python3 tests/fuzz/make_seed_corpus.py [SHARED_DATA_DIR]
"""
import copy
import gzip
import pathlib
import shutil
import subprocess
import struct
import sys

import numpy as np
import pydicom
import pydicom.encaps
from pydicom.uid import ExplicitVRBigEndian, RLELossless

here = pathlib.Path(__file__).resolve().parent
data = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else here.parent / "data") / "mri"
nii_dir, dcm_dir = here / "corpus" / "nifti_read", here / "corpus" / "dicom_read"
for d in (nii_dir, dcm_dir):
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)

DT = {"u1": (2, 8), "i2": (4, 16), "i4": (8, 32), "f4": (16, 32), "f8": (64, 64), "i1": (256, 8), "u2": (512, 16),
      "u4": (768, 32)}


def nifti1(shape, dt, endian="<", ext=b"", sform=True):
    code, bits = DT[dt]
    off = 352 + len(ext)
    h = bytearray(348)
    struct.pack_into(endian + "i", h, 0, 348)
    struct.pack_into(endian + "8h", h, 40, 3, *shape, 1, 1, 1, 1)
    struct.pack_into(endian + "hh", h, 70, code, bits)
    struct.pack_into(endian + "8f", h, 76, -1.0, 1.0, 2.0, 3.0, 0, 0, 0, 0)
    struct.pack_into(endian + "fff", h, 108, float(off), 2.0, -1.0)
    h[123] = 2
    struct.pack_into(endian + "hh", h, 252, 1, 1 if sform else 0)
    struct.pack_into(endian + "3f", h, 256, 0.0, 0.0, 1.0)
    struct.pack_into(endian + "3f", h, 268, 1.0, 2.0, 3.0)
    struct.pack_into(endian + "12f", h, 280, 1, 0, 0, 1, 0, 2, 0, 2, 0, 0, 3, 3)
    h[344:348] = b"n+1\0"
    vox = (np.arange(int(np.prod(shape))) % 7).astype(endian + dt).tobytes()
    flag = b"\1\0\0\0" if ext else b"\0\0\0\0"
    return bytes(h) + flag + ext + vox


def nifti2(shape, dt, endian="<"):
    code, bits = DT[dt]
    h = bytearray(540)
    struct.pack_into(endian + "i", h, 0, 540)
    h[4:12] = b"n+2\0\r\n\x1a\n"
    struct.pack_into(endian + "hh", h, 12, code, bits)
    struct.pack_into(endian + "8q", h, 16, 3, *shape, 1, 1, 1, 1)
    struct.pack_into(endian + "8d", h, 104, 1.0, 1.0, 1.0, 1.0, 0, 0, 0, 0)
    struct.pack_into(endian + "q", h, 168, 544)
    struct.pack_into(endian + "dd", h, 176, 1.0, 0.0)
    struct.pack_into(endian + "ii", h, 344, 1, 1)  # qform_code, sform_code
    struct.pack_into(endian + "12d", h, 400, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0)
    vox = (np.arange(int(np.prod(shape))) % 5).astype(endian + dt).tobytes()
    return bytes(h) + b"\0\0\0\0" + vox


ext = struct.pack("<ii", 32, 6) + b"comment: fuzz seed\0".ljust(24, b"\0")
seeds = {
    "i16_le.nii": nifti1((4, 3, 2), "i2"),
    "f32_be.nii": nifti1((3, 3, 3), "f4", ">"),
    "u8_noform.nii": nifti1((2, 2, 2), "u1", sform=False),
    "f64_ext.nii": nifti1((2, 3, 2), "f8", ext=ext),
    "u16.nii": nifti1((2, 2, 3), "u2"),
    "i8.nii": nifti1((2, 2, 2), "i1"),
    "u32_n2.nii": nifti2((3, 2, 2), "u4"),
    "i32_n2_be.nii": nifti2((2, 2, 2), "i4", ">"),
}
seeds["i16_le.nii.gz"] = gzip.compress(seeds["i16_le.nii"], 9, mtime=0)
seeds["u32_n2.nii.gz"] = gzip.compress(seeds["u32_n2.nii"], 9, mtime=0)
for name, b in seeds.items():
    (nii_dir / name).write_bytes(b)
shutil.copy(data / "brain-t1-tiny-monai" / "anatomical_label.nii.gz", nii_dir / "monai_label.nii.gz")
shutil.copy(data / "spine-cervical-sct" / "t2" / "labels.nii.gz", nii_dir / "sct_labels.nii.gz")

# Single-frame, implicit VR little endian, cropped to 8x8.
ds = pydicom.dcmread(str(data / "dicom-brain-t1-vsseg-3sl" / "1-001.dcm"))
px = ds.pixel_array[200:208, 200:208].copy()
ds.Rows, ds.Columns = 8, 8
ds.PixelData = px.tobytes()
ds.save_as(str(dcm_dir / "single_implicit.dcm"))

# The same crop as Explicit VR Big Endian, as signed 12-bit with junk high bits, and as RLE
# Lossless (encapsulated: the only path into GDCM's codecs).
be = pydicom.dcmread(str(dcm_dir / "single_implicit.dcm"))
be.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
be.is_little_endian, be.is_implicit_VR = False, False
be.PixelData = px.astype(">u2").tobytes()
be.save_as(str(dcm_dir / "single_big_endian.dcm"), write_like_original=False)
s12 = pydicom.dcmread(str(dcm_dir / "single_implicit.dcm"))
s12.PixelRepresentation = 1
s12.PixelData = (((px.astype(np.int64) - 2048) & 0xFFF) | (0xA << 12)).astype("<u2").tobytes()
s12.save_as(str(dcm_dir / "single_signed12.dcm"))
rle = pydicom.dcmread(str(dcm_dir / "single_implicit.dcm"))
rle.compress(RLELossless, px)
rle.save_as(str(dcm_dir / "single_rle.dcm"))

# Enhanced multi-frame, explicit VR little endian: 2 frames of 8x8.
ds = pydicom.dcmread(str(data / "dicom-enhanced-multiframe" / "enh.dcm"))
px = ds.pixel_array[:2, 28:36, 28:36].copy()
ds.Rows, ds.Columns, ds.NumberOfFrames = 8, 8, 2
ds.PerFrameFunctionalGroupsSequence = ds.PerFrameFunctionalGroupsSequence[:2]
ds.PixelData = px.tobytes()
ds.remove_private_tags()  # vendor blocks: most of the bytes, none of the geometry
for kw in ("ReferencedImageEvidenceSequence", "ReferencedPerformedProcedureStepSequence"):
    if kw in ds:
        delattr(ds, kw)
ds.save_as(str(dcm_dir / "enhanced_2frames.dcm"))
# The same with a third frame 4.8 mm on where the others are 2.4 mm apart: the uneven-slice
# check and (the fuzz target turns resampling on for odd-sized inputs) the resampling plan.
first = ds.PerFrameFunctionalGroupsSequence[0]
third = copy.deepcopy(ds.PerFrameFunctionalGroupsSequence[1])
pos = [float(x) for x in third.PlanePositionSequence[0].ImagePositionPatient]
third.PlanePositionSequence[0].ImagePositionPatient = [pos[0], pos[1], pos[2] + 4.8]
ds.PerFrameFunctionalGroupsSequence.append(third)
ds.NumberOfFrames = 3
ds.PixelData = np.concatenate([px, px[:1]]).tobytes()
ds.save_as(str(dcm_dir / "enhanced_uneven_3frames.dcm"))

# A Siemens image with its real CSA headers (private tags kept), cropped to 8x8, and as a
# mosaic (ImageType MOSAIC): the CSA parser and the mosaic refusal.
ds = pydicom.dcmread(str(sorted((data / "dicom-brain-t1-sag-35sl").glob("*.dcm"))[0]))
ds.PixelData = ds.pixel_array[100:108, 100:108].copy().tobytes()
ds.Rows, ds.Columns = 8, 8
for t in [t for t in ds.keys() if t.group in (0x0029,) and t.element >= 0x1000 and t.element != 0x1010]:
    del ds[t]
ds.save_as(str(dcm_dir / "single_siemens_csa.dcm"))
ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "MOSAIC"]
ds.save_as(str(dcm_dir / "single_siemens_mosaic.dcm"))
# A mosaic that unpacks: 4 tiles of 4x4 in the 8x8 image, the count in a CSA2 header.
sys.path.insert(0, str(here.parent / "io"))
from dicom_writer import csa2  # noqa: E402
ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True).add_new(
    0x10, "OB", csa2({"NumberOfImagesInMosaic": ("US", ["4"]), "SliceNormalVector": ("FD", ["1", "0", "0"])}))
ds.save_as(str(dcm_dir / "single_siemens_mosaic_4.dcm"))

# siemens_csa: the CSA image headers of the two Siemens seeds, bare.
csa_dir = here / "corpus" / "siemens_csa"
csa_dir.mkdir(parents=True, exist_ok=True)
for name in ("single_siemens_csa", "single_siemens_mosaic_4"):
    el = pydicom.dcmread(str(dcm_dir / f"{name}.dcm"))[0x0029, 0x1010]
    (csa_dir / f"{name}.bin").write_bytes(el.value)

# JPEG-family copies of the 8x8 crop made by dcmtk and GDCM's gdcmconv (when installed): for
# dicom_read a whole file each, for dicom_codec the fragment behind a 4-byte prefix that
# dicom_codec_fuzz.cpp reads as syntax index, rows - 1, columns - 1, bits (0x80 = 16-bit
# allocated, low nibble + 2 = BitsStored).
codec_dir = here / "corpus" / "dicom_codec"
codec_dir.mkdir(parents=True, exist_ok=True)
syntax_index = {"1.2.840.10008.1.2.4.50": 0, "1.2.840.10008.1.2.4.51": 1, "1.2.840.10008.1.2.4.57": 2,
                "1.2.840.10008.1.2.4.70": 3, "1.2.840.10008.1.2.4.80": 4, "1.2.840.10008.1.2.4.81": 5,
                "1.2.840.10008.1.2.4.90": 6, "1.2.840.10008.1.2.4.91": 7}
for tag, cmd in [("jpeg_lossless", ["dcmcjpeg", "+e1"]), ("jpeg_extended", ["dcmcjpeg", "+ee"]),
                 ("jpegls", ["dcmcjpls"]), ("jpegls_near", ["dcmcjpls", "+en"]), ("j2k", ["gdcmconv", "--j2k"]),
                 ("j2k_lossy", ["gdcmconv", "--j2k", "--lossy", "--irreversible", "-r", "20"])]:
    if shutil.which(cmd[0]) is None:
        continue
    out = dcm_dir / f"single_{tag}.dcm"
    subprocess.run([*cmd, str(dcm_dir / "single_implicit.dcm"), str(out)], check=True, capture_output=True)
    c = pydicom.dcmread(str(out))
    frag = next(pydicom.encaps.generate_pixel_data_frame(c.PixelData))
    prefix = bytes([syntax_index[str(c.file_meta.TransferSyntaxUID)], c.Rows - 1, c.Columns - 1,
                    0x80 | (c.BitsStored - 2)])
    (codec_dir / f"{tag}.bin").write_bytes(prefix + frag)
# A deflated copy (Deflated Explicit VR Little Endian) by dcmtk, for dicom_read.
if shutil.which("dcmconv"):
    subprocess.run(["dcmconv", "+td", str(dcm_dir / "single_implicit.dcm"), str(dcm_dir / "single_deflated.dcm")],
                   check=True, capture_output=True)
print("seeds:", sorted(p.name for p in nii_dir.iterdir()), sorted(p.name for p in dcm_dir.iterdir()),
      sorted(p.name for p in csa_dir.iterdir()), sorted(p.name for p in codec_dir.iterdir()))
