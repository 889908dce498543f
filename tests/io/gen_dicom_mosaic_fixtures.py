#!/usr/bin/python3
"""Siemens mosaics written by pydicom from a real volume (16 slices of the NIfTI abdomen scan
in shared/data/mri tiled 4 x 4 into one 468 x 364 image), for tests/io/dicom_mosaic_test.cpp,
each marked in one of the ways scanners mark them:
  full      ImageType ...\\MOSAIC, CSA image header (0029,1010) with NumberOfImagesInMosaic 16 and
            the private (0019,100A) = 16
  csa-only  the CSA header alone (ImageType without MOSAIC)
  type-only ImageType MOSAIC alone
csa.bin is the CSA2 header on its own (for the parser's own test). manifest.json: the paths."""
import json
import os
import pathlib
import shutil
import struct
import sys

import nibabel as nib
import numpy as np
import pydicom
from pydicom.dataset import Dataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dicom_writer import write_series  # noqa: E402

out = pathlib.Path(sys.argv[1])
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
data_dir = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR",
                                        pathlib.Path(__file__).resolve().parents[2] / ".." / "shared" / "data"))
mri = data_dir / "mri"


def csa2(tags):
    """A CSA2 ("SV10") header: {name: [item strings]}."""
    b = b"SV10\x04\x03\x02\x01" + struct.pack("<II", len(tags), 77)
    for name, items in tags.items():
        b += name.encode().ljust(64, b"\0") + struct.pack("<i4sii", 1, b"IS\0\0", 6, len(items)) + struct.pack("<i", 77)
        for it in items:
            v = it.encode() + b"\0"
            b += struct.pack("<4i", len(v), len(v), 77, len(v)) + v + b"\0" * (-len(v) % 4)
    return b


csa = csa2({"EchoLinePosition": ["64"], "NumberOfImagesInMosaic": ["16"], "SliceNormalVector": ["0", "0", "1"]})
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
for name, (mosaic_type, with_csa, with_private) in {"full": (True, True, True), "csa-only": (False, True, False),
                                                    "type-only": (True, False, False)}.items():
    t = Dataset()
    t.update(template)
    t.file_meta = template.file_meta
    t.ImageType = ["ORIGINAL", "PRIMARY", "M", "MOSAIC" if mosaic_type else "ND"]
    if with_csa:
        t.private_block(0x0029, "SIEMENS CSA HEADER", create=True).add_new(0x10, "OB", csa)
    if with_private:
        t.private_block(0x0019, "SIEMENS MR HEADER", create=True).add_new(0x0A, "US", 16)
    write_series(out / name, t, [mosaic], [[0.0, 0.0, 0.0]], [1, 0, 0, 0, 1, 0], [3.0, 3.0])
    man[name] = {"path": str(out / name), "slices": 16 if (with_csa or with_private) else 0}
man["csa"] = str(out / "csa.bin")
(out / "manifest.json").write_text(json.dumps(man, indent=1))
print("dicom mosaic fixtures:", list(man))
