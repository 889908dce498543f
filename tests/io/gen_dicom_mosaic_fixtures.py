#!/usr/bin/python3
"""Siemens mosaics written by pydicom from a real volume (16 slices of the NIfTI abdomen scan
in tests/data/mri tiled 4 x 4 into one 468 x 364 image), for tests/io/dicom_mosaic_test.cpp,
each marked in one of the ways scanners mark them:
  full      ImageType ...\\MOSAIC, CSA image header (0029,1010) with NumberOfImagesInMosaic 16 and
            the private (0019,100A) = 16
  csa-only  the CSA header alone (ImageType without MOSAIC)
  flipped   as full, with the CSA SliceNormalVector against row x column cosine
  type-only ImageType MOSAIC alone: the slice count is unknown, so it must be refused
  two-volumes  two mosaics in one series (a time series, 4-D): refused
The expected volume and affine of the unpacked ones come from nibabel's own mosaic reader
(nibabel.nicom.dicomwrappers.MosaicWrapper), turned into the engine's layout ([slice, row,
column] voxels, RAS affine of (column, row, slice)) and, for "flipped", slice order (ascending
along row x column cosine). csa.bin is the CSA2 header on its own (for the parser's test)."""
import json
import os
import pathlib
import shutil
import sys
import warnings

import nibabel as nib
import numpy as np
import pydicom
from pydicom.dataset import Dataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dicom_writer import csa2, write_series  # noqa: E402

warnings.filterwarnings("ignore", "The DICOM readers are highly experimental")
from nibabel.nicom import dicomwrappers  # noqa: E402
out = pathlib.Path(sys.argv[1])
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
data_dir = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR", pathlib.Path(__file__).resolve().parents[1] / "data"))
mri = data_dir / "mri"


def csa_for(normal_z):
    return csa2({"EchoLinePosition": ("IS", ["64"]), "NumberOfImagesInMosaic": ("US", ["16"]),
                 "AcquisitionMatrixText": ("SH", ["91*117"]), "SliceNormalVector": ("FD", ["0", "0", normal_z])})


csa = csa_for("1")
(out / "csa.bin").write_bytes(csa)

img = nib.load(str(mri / "abdomen-lumbar-totalseg" / "example_mr_sm.nii.gz"))
data = np.asarray(img.dataobj).astype(np.int64)
data -= min(0, data.min())
tiles = [data[:, :, k].T for k in range(16)]                   # [row = j, column = i], 91 x 117
rows, cols = tiles[0].shape
mosaic = np.zeros((4 * rows, 4 * cols), np.int64)
for k, t in enumerate(tiles):
    mosaic[(k // 4) * rows:(k // 4 + 1) * rows, (k % 4) * cols:(k % 4 + 1) * cols] = t
template = pydicom.dcmread(str(sorted((mri / "dicom-brain-t1-sag-35sl").glob("*.dcm"))[0]))
man = {}
cases = {"full": (True, "1", True), "csa-only": (False, "1", False), "flipped": (True, "-1", True),
         "type-only": (True, None, False)}
for name, (mosaic_type, normal_z, with_private) in cases.items():
    t = Dataset()
    t.update(template)
    t.file_meta = template.file_meta
    t.ImageType = ["ORIGINAL", "PRIMARY", "M", "MOSAIC" if mosaic_type else "ND"]
    if normal_z is not None:
        t.private_block(0x0029, "SIEMENS CSA HEADER", create=True).add_new(0x10, "OB", csa_for(normal_z))
    else:
        del t[0x0029, 0x1010]   # the template's real (non-mosaic) CSA header
    if with_private:
        t.private_block(0x0019, "SIEMENS MR HEADER", create=True).add_new(0x0A, "US", 16)
    write_series(out / name, t, [mosaic], [[10.0, -20.0, 30.0]], [1, 0, 0, 0, 1, 0], [3.0, 3.0])
    e = {"path": str(out / name), "slices": 16 if normal_z is not None else 0}
    if normal_z is not None:
        w = dicomwrappers.wrapper_from_file(str(next((out / name).glob("*.dcm"))))
        assert w.is_mosaic
        vol = np.asarray(w.get_data(), np.float64).transpose(2, 0, 1)   # [slice, row, column]
        lps = w.affine[:, [1, 0, 2, 3]]                                 # (column, row, slice)
        if lps[2, 2] < 0:                                               # ascending along r x c
            vol, lps = vol[::-1], lps @ np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, -1, 15], [0, 0, 0, 1]])
        assert np.array_equal(vol[0], tiles[15 if normal_z == "-1" else 0])
        ref = out / f"{name}.f32"
        np.ascontiguousarray(vol, "<f4").tofile(ref)
        e.update({"ref": str(ref), "shape_dhw": list(vol.shape), "affine": (np.diag([-1.0, -1, 1, 1]) @ lps).ravel().tolist()})
    man[name] = e
# Two mosaics of one series (a time series: 4-D): refused.
t = pydicom.dcmread(str(next((out / "full").glob("*.dcm"))))
write_series(out / "two-volumes", t, [mosaic, mosaic], [[10.0, -20.0, 30.0]] * 2, [1, 0, 0, 0, 1, 0], [3.0, 3.0])
man["two-volumes"] = {"path": str(out / "two-volumes"), "slices": 16}
man["csa"] = str(out / "csa.bin")
(out / "manifest.json").write_text(json.dumps(man, indent=1))
print("dicom mosaic fixtures:", list(man))
