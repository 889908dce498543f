"""Writing a DICOM series with pydicom for the test generators: one file per slice, from a
template data set (a real file) with new UIDs, positions, orientation and pixels; and a
Siemens CSA2 header (csa2)."""
import copy
import shutil
import struct

import numpy as np
from pydicom.uid import generate_uid


def write_series(folder, template, images, positions, iop, spacing, slope=1.0, inter=0.0, clear=True, **attrs):
    """`images` integer arrays [row, column] (stored as uint16), `positions` LPS IPPs, `iop` the
    six direction cosines, `spacing` PixelSpacing (row, column). Extra keyword arguments set
    attributes (SeriesNumber=5, ...). Returns the new SeriesInstanceUID."""
    if clear:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    series_uid = generate_uid()
    for k, (img, ipp) in enumerate(zip(images, positions)):
        ds = copy.deepcopy(template)
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [f"{x:.6f}" for x in ipp]
        ds.ImageOrientationPatient = [f"{x:.8f}" for x in iop]
        ds.PixelSpacing = [f"{x:.6f}" for x in spacing]
        ds.Rows, ds.Columns = img.shape
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.RescaleSlope, ds.RescaleIntercept = f"{slope:g}", f"{inter:g}"
        for key, value in attrs.items():
            setattr(ds, key, value)
        ds.PixelData = np.ascontiguousarray(img, "<u2").tobytes()
        ds.save_as(str(folder / f"{series_uid[-8:]}_{k + 1:04d}.dcm"), write_like_original=False)
    return series_uid


def csa2(tags):
    """A CSA2 ("SV10") header: {name: (VR, [item strings])}."""
    b = b"SV10\x04\x03\x02\x01" + struct.pack("<II", len(tags), 77)
    for name, (vr, items) in tags.items():
        b += name.encode().ljust(64, b"\0") + struct.pack("<i4sii", len(items), vr.encode().ljust(4, b"\0"), 6, len(items))
        b += struct.pack("<i", 77)
        for it in items:
            v = it.encode() + b"\0"
            b += struct.pack("<4i", len(v), len(v), 77, len(v)) + v + b"\0" * (-len(v) % 4)
    return b
