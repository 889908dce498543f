"""vx_volume_write_dicom_seg through the Python binding: a mask made on the grid of the real
35-slice sagittal T1 series (reference.like) is written as a DICOM-SEG that pydicom, with the
frames' own positions, places voxel for voxel as the mask (nibabel-convention affine of the
volume); a mask on another grid is refused with VX_ERR_SHAPE_MISMATCH and no file."""
import os
import pathlib

import numpy as np
import pydicom
import pytest

import voxinfer
from dicom_oracle import seg_on_grid

DATA = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR", pathlib.Path(__file__).resolve().parents[1] / "data"))
SAG = DATA / "mri" / "dicom-brain-t1-sag-35sl"


def test_capi_seg_round_trip_and_refusal(tmp_path):
    ref = voxinfer.read_volume(str(SAG))
    scan = np.asarray(ref.data)
    labels = (scan > np.percentile(scan, 95)).astype(np.float32) + (scan > np.percentile(scan, 99.5))
    mask = ref.like(labels)
    out = tmp_path / "seg.dcm"
    mask.write_dicom_seg(SAG, out, ["bright", "brightest"])
    seg = pydicom.dcmread(str(out))
    assert [s.SegmentLabel for s in seg.SegmentSequence] == ["bright", "brightest"]
    src = pydicom.dcmread(str(sorted(SAG.glob("*.dcm"))[0]), stop_before_pixels=True)
    assert seg.StudyInstanceUID == src.StudyInstanceUID and seg.FrameOfReferenceUID == src.FrameOfReferenceUID
    np.testing.assert_array_equal(seg_on_grid(seg, labels.shape, np.array(ref.affine)), labels.astype(np.int32))

    shifted = np.array(ref.affine)
    shifted[:3, 3] += 1.5
    off = voxinfer.Volume.from_array(labels, shifted)
    with pytest.raises(voxinfer.VoxinferError) as e:
        off.write_dicom_seg(SAG, tmp_path / "off.dcm")
    assert "voxel grid" in str(e.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seg.dcm"]
