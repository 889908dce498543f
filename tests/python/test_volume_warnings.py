"""The reader's warnings reach C and Python callers (vx_volume_warning_count / vx_volume_warning,
Volume.warnings): a DICOM series with uneven gaps (gen_dicom_geometry_fixtures.py, gaps of
3.5 and 4.5 mm) read with resample_uneven_slices has one warning naming the resampling; read
without it, it is refused naming the gaps; a regular series and a NIfTI file have none; an index
past the count is VX_ERR_INVALID_ARGUMENT with a NULL text."""
import ctypes
import json
import os

import pytest

import voxinfer
from voxinfer import _capi

GEO = json.load(open(os.path.join(os.environ["VX_FIXTURE_DIR"], "dicom_geometry", "manifest.json")))
T1W = os.path.join(os.environ["VX_TEST_DATA_DIR"], "mri", "spine-cervical-sct", "t1", "t1w.nii.gz")


def test_resampled_series_carries_its_warning():
    gaps = GEO["gaps"]
    with pytest.raises(voxinfer.VoxinferError) as e:
        voxinfer.read_volume(gaps["path"])
    for part in gaps["message"]:
        assert part in str(e.value)
    v = voxinfer.read_volume(gaps["path"], resample_uneven_slices=True)
    assert len(v.warnings) == 1
    assert "resampled onto a regular grid" in v.warnings[0] and gaps["path"] in v.warnings[0]


def test_regular_series_and_nifti_have_no_warning():
    assert voxinfer.read_volume(GEO["jitter"]["path"]).warnings == ()
    assert voxinfer.read_volume(T1W).warnings == ()
    assert voxinfer.Volume.from_array([[[1.0]]]).warnings == ()


def test_raw_c_api_bounds_and_nulls():
    v = voxinfer.read_volume(GEO["gaps"]["path"], resample_uneven_slices=True)
    lib = _capi.lib
    n = ctypes.c_size_t()
    assert lib.vx_volume_warning_count(v._h.handle, ctypes.byref(n)) == 0 and n.value == 1
    t = ctypes.c_char_p(b"x")
    assert lib.vx_volume_warning(v._h.handle, 1, ctypes.byref(t)) == 1
    assert t.value is None
    assert "out of range" in lib.vx_last_error().decode()
    assert lib.vx_volume_warning(v._h.handle, 0, None) == 1
    assert lib.vx_volume_warning_count(None, ctypes.byref(n)) == 1
