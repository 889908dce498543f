"""The Python binding's option Structures follow the header: each has the newest version size
that voxinfer.h defines, gets its defaults from the sized init called with its own ctypes size,
and VX_ERR_BUSY maps to BusyError."""
import ctypes
import os
import re

import pytest

import voxinfer
from voxinfer import _capi

STRUCTS = {"MODEL": _capi.ModelOptions, "SESSION": _capi.SessionOptions, "VOLUME_READ": _capi.VolumeReadOptions,
           "N4": _capi.N4Options, "GRADCAM": _capi.GradcamOptions, "EXAM": _capi.ExamOptions,
           "SEGMENT": _capi.SegmentOptions}


def newest_sizes():
    with open(os.path.join(os.environ["VX_SOURCE_DIR"], "include", "voxinfer", "voxinfer.h")) as f:
        text = f.read()
    sizes = {}
    for name, _version, size in re.findall(r"#define VX_(\w+)_OPTIONS_SIZE_V(\d+) (\d+)", text):
        sizes[name] = max(sizes.get(name, 0), int(size))
    return sizes


def test_every_structure_has_the_newest_version_size():
    sizes = newest_sizes()
    assert set(sizes) == set(STRUCTS)
    for name, cls in STRUCTS.items():
        assert ctypes.sizeof(cls) == sizes[name], name


def test_defaults_come_from_the_sized_init():
    so = voxinfer._options(_capi.SessionOptions)
    assert so.struct_size == ctypes.sizeof(_capi.SessionOptions) == 88
    assert so.device_index == -1  # version 2's default
    ro = voxinfer._options(_capi.VolumeReadOptions)
    assert ro.struct_size == 32 and ro.resample_uneven_slices == 0
    assert voxinfer._options(_capi.GradcamOptions).target_class == -1
    assert voxinfer._options(_capi.ExamOptions).gradcam == 1


def test_busy_is_its_own_error():
    assert _capi.STATUS_NAMES[11] == "VX_ERR_BUSY" == _capi.lib.vx_status_name(11).decode()
    with pytest.raises(voxinfer.BusyError) as e:
        voxinfer._check(11)
    assert e.value.status_name == "VX_ERR_BUSY"
