"""Reading DICOM the way an independent viewer does, for the tests of voxinfer's DICOM outputs
(tests/io/test_dicom_seg_out.py, tests/pipeline/test_exam_dicom_out.py): a source series with
pydicom (sorted along the slice normal, as the standard's geometry says), a DICOM-SEG placed voxel
by voxel from its own per-frame positions and orientation, and dcmtk's dcmdump / dcm2niix runs.
Nothing here calls voxinfer."""
import pathlib
import shutil
import subprocess

import numpy as np
import pydicom

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def read_series(folder):
    """The DICOM images of `folder` (recursive), sorted by position along the normal."""
    dss = []
    for p in sorted(pathlib.Path(folder).rglob("*")):
        if p.is_file():
            try:
                ds = pydicom.dcmread(str(p))
            except pydicom.errors.InvalidDicomError:
                continue
            if "PixelData" in ds:
                dss.append(ds)
    iop = np.array(dss[0].ImageOrientationPatient, float)
    normal = np.cross(iop[:3], iop[3:])
    return sorted(dss, key=lambda d: float(np.dot(normal, np.array(d.ImagePositionPatient, float))))


def series_voxels(dss):
    """float32 [slice, row, column], rescaled."""
    return np.stack([d.pixel_array.astype(np.float64) * float(d.get("RescaleSlope", 1) or 1) +
                     float(d.get("RescaleIntercept", 0) or 0) for d in dss]).astype(np.float32)


def series_affine(dss):
    """RAS affine of the NIfTI array [column i, row j, slice k] of a regular series."""
    iop = np.array(dss[0].ImageOrientationPatient, float)
    dy, dx = (float(x) for x in dss[0].PixelSpacing)
    first, last = (np.array(d.ImagePositionPatient, float) for d in (dss[0], dss[-1]))
    lps = np.eye(4)
    lps[:3, 0], lps[:3, 1] = iop[:3] * dx, iop[3:] * dy
    lps[:3, 2] = (last - first) / max(len(dss) - 1, 1)
    lps[:3, 3] = first
    return LPS_TO_RAS @ lps


def seg_frame_geometry(seg, f):
    """(IPP, IOP, PixelSpacing) of frame f, per-frame groups first, then the shared ones."""
    def find(seq_kw, kw):
        for groups in (seg.PerFrameFunctionalGroupsSequence[f], seg.SharedFunctionalGroupsSequence[0]):
            if seq_kw in groups and kw in groups[seq_kw][0]:
                return np.array(groups[seq_kw][0][kw].value, float)
        raise AssertionError(f"frame {f + 1} has no {kw}")
    return (find("PlanePositionSequence", "ImagePositionPatient"), find("PlaneOrientationSequence", "ImageOrientationPatient"),
            find("PixelMeasuresSequence", "PixelSpacing"))


def seg_frames(seg):
    """The frames' bits [frame, row, column] unpacked from the 1-bit pixel data (LSB first, frames
    back to back, PS3.5 8.1.1), independent of pydicom's own unpacking."""
    n, rows, cols = int(seg.NumberOfFrames), int(seg.Rows), int(seg.Columns)
    bits = np.unpackbits(np.frombuffer(seg.PixelData, np.uint8), bitorder="little")
    assert bits.size >= n * rows * cols
    return bits[: n * rows * cols].reshape(n, rows, cols)


def seg_on_grid(seg, shape, affine, tol=1e-3):
    """The SEG placed on a NIfTI grid (shape i, j, k; RAS affine): every pixel's world position from
    its frame's IPP / IOP / PixelSpacing, mapped through the inverse affine to a voxel index, which
    must be an integer within `tol` and inside the grid; the voxel gets the frame's
    ReferencedSegmentNumber. Two segments on one voxel fail (voxinfer's labels do not overlap)."""
    frames = seg_frames(seg)
    inv = np.linalg.inv(affine)
    out = np.zeros(shape, np.int32)
    rr, cc = np.meshgrid(np.arange(frames.shape[1]), np.arange(frames.shape[2]), indexing="ij")
    for f in range(frames.shape[0]):
        ipp, iop, ps = seg_frame_geometry(seg, f)
        segment = int(seg.PerFrameFunctionalGroupsSequence[f].SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        lps = ipp[:, None, None] + iop[:3, None, None] * ps[1] * cc + iop[3:, None, None] * ps[0] * rr
        ras = LPS_TO_RAS[:3, :3] @ lps.reshape(3, -1)
        ijk = inv[:3, :3] @ ras + inv[:3, 3:4]
        idx = np.rint(ijk).astype(np.int64)
        assert np.abs(ijk - idx).max() < tol, f"frame {f + 1} is off the grid by {np.abs(ijk - idx).max()} voxels"
        assert (idx >= 0).all() and (idx < np.array(shape)[:, None]).all(), f"frame {f + 1} lies outside the grid"
        on = frames[f].reshape(-1).astype(bool)
        i, j, k = idx[:, on]
        assert not out[i, j, k].any(), f"frame {f + 1} overlaps another segment"
        out[i, j, k] = segment
    return out


def dcmdump_ok(path):
    """dcmdump reads the file: exit 0 and no error ('E:') line. Returns its output."""
    if not shutil.which("dcmdump"):
        return None
    p = subprocess.run(["dcmdump", str(path)], capture_output=True, text=True, timeout=120)
    errors = [line for line in (p.stdout + p.stderr).splitlines() if line.startswith("E:")]
    assert p.returncode == 0 and not errors, f"dcmdump {path}: rc {p.returncode}\n" + "\n".join(errors) + p.stderr
    return p.stdout


def dcm2niix_run(folder, out_dir):
    """dcm2niix on a folder; it must exit 0 with no 'Error' line. Returns (stdout, NIfTI files)."""
    if not shutil.which("dcm2niix"):
        return None
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(["dcm2niix", "-z", "n", "-b", "n", "-o", str(out_dir), str(folder)],
                       capture_output=True, text=True, timeout=300)
    text = p.stdout + p.stderr
    errors = [line for line in text.splitlines() if line.lower().startswith("error")]
    assert p.returncode == 0 and not errors, f"dcm2niix {folder}: rc {p.returncode}\n{text}"
    return text, sorted(out_dir.glob("*.nii"))
