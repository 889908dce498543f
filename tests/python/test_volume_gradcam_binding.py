"""voxinfer.read_volume / Volume / Model.gradcam against independent oracles: nibabel for volumes
(every NIfTI in tests/data/mri), PyTorch autograd Grad-CAM for maps (tests/capi/gen_volcam_fixtures.py),
and the raw C API for the binding itself (bit for bit)."""
import ctypes
import glob
import json
import os

import nibabel as nib
import numpy as np
import pytest

import voxinfer
from voxinfer import _capi

DATA = os.path.join(os.environ["VX_TEST_DATA_DIR"], "mri")
FX = os.path.join(os.environ["VX_FIXTURE_DIR"], "volcam")
NIFTIS = sorted(glob.glob(os.path.join(DATA, "**", "*.nii*"), recursive=True))
T1 = os.path.join(DATA, "spine-cervical-sct", "t1", "t1w.nii.gz")


def test_there_is_real_data():
    assert len(NIFTIS) >= 10, f"expected the shared MRI data in {DATA}"


@pytest.mark.parametrize("path", NIFTIS, ids=[os.path.relpath(p, DATA) for p in NIFTIS])
def test_read_volume_equals_nibabel(path):
    img = nib.load(path)
    ref = np.asarray(img.get_fdata(), dtype=np.float64)
    vol = voxinfer.read_volume(path)
    assert vol.data.dtype == np.float32
    assert vol.data.shape == ref.shape == vol.shape
    # float32 of nibabel's float64 values: equal up to float32 rounding of the scaling
    np.testing.assert_allclose(vol.data, ref, rtol=1e-6, atol=1e-6 * max(1.0, float(np.abs(ref).max())))
    np.testing.assert_allclose(vol.affine, img.affine, rtol=0, atol=1e-9 * max(1.0, float(np.abs(img.affine).max())))
    assert vol.axcodes == "".join(nib.aff2axcodes(img.affine))
    np.testing.assert_allclose(vol.spacing, np.sqrt((img.affine[:3, :3] ** 2).sum(0)), rtol=1e-9)


def test_data_is_a_read_only_zero_copy_view():
    vol = voxinfer.read_volume(T1)
    d = vol.data
    assert not d.flags.owndata and not d.flags.writeable
    assert d.flags.f_contiguous  # the C-order [nz][ny][nx] buffer viewed as its transpose
    with pytest.raises(ValueError):
        d[0, 0, 0] = 1
    del vol  # the view keeps the library's buffer alive
    assert np.isfinite(d).all() and d.shape == (42, 76, 77)


@pytest.mark.parametrize("ext", [".nii", ".nii.gz"])
def test_write_keeps_geometry_for_nibabel(tmp_path, ext):
    for src in (T1, os.path.join(DATA, "orientation-icbm152-48", "PSR.nii.gz")):
        img = nib.load(src)
        vol = voxinfer.read_volume(src)
        out = tmp_path / ("out" + ext)
        vol.write(out)
        back = nib.load(str(out))
        assert back.get_data_dtype() == np.float32
        np.testing.assert_allclose(back.affine, img.affine, atol=1e-5)
        assert np.array_equal(np.asarray(back.dataobj), vol.data)
        assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary left


def test_from_array_and_like(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.standard_normal((5, 4, 3)).astype(np.float32)
    affine = np.array([[0, 0, -2.0, 10], [1.5, 0, 0, -20], [0, 0.75, 0, 5], [0, 0, 0, 1]])
    vol = voxinfer.Volume.from_array(data, affine)
    assert np.array_equal(vol.data, data) and np.array_equal(vol.affine, affine)
    vol.write(tmp_path / "a.nii.gz")
    img = nib.load(str(tmp_path / "a.nii.gz"))
    assert np.array_equal(img.get_fdata(), data)  # float32 on disk: exact
    np.testing.assert_allclose(img.affine, affine, atol=1e-6)
    scan = voxinfer.read_volume(T1)
    m = scan.like(np.full(scan.shape, 0.25, np.float32))
    m.write(tmp_path / "m.nii")
    back = nib.load(str(tmp_path / "m.nii"))
    np.testing.assert_allclose(back.affine, nib.load(T1).affine, atol=1e-5)
    assert back.shape == scan.shape and np.all(back.get_fdata() == 0.25)
    with pytest.raises(ValueError):
        scan.like(np.zeros(scan.shape[::-1]))
    ras = scan.reorient("RAS")
    assert ras.axcodes == "RAS"
    assert np.array_equal(ras.reorient(scan.axcodes).data, scan.data)


def test_volume_errors(tmp_path):
    with pytest.raises(voxinfer.VoxinferError) as e:
        voxinfer.read_volume(tmp_path / "missing.nii.gz")
    assert e.value.status_name == "VX_ERR_IO" and "missing.nii.gz" in str(e.value)
    bad = tmp_path / "bad.nii"
    bad.write_bytes(b"\x5c\x01\x00\x00" + b"\xff" * 400)
    with pytest.raises(voxinfer.VoxinferError):
        voxinfer.read_volume(bad)
    vol = voxinfer.Volume.from_array(np.zeros((2, 2, 2)))
    with pytest.raises(voxinfer.VoxinferError) as e:
        vol.write(tmp_path / "x.png")
    assert e.value.status_name == "VX_ERR_INVALID_ARGUMENT"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.nii"]


def _fixture(name):
    with open(os.path.join(FX, name + ".json")) as f:
        info = json.load(f)
    ins = [np.load(os.path.join(FX, f"{name}_in{i}.npy")) for i in range(len(info["inputs"]))]
    return info, ins


def _capi_gradcam(model_path, inputs, method=0):
    """The same Grad-CAM through the raw C API (default session options, as Model uses)."""
    lib = _capi.lib
    m, s = ctypes.c_void_p(), ctypes.c_void_p()
    assert lib.vx_model_load(model_path.encode(), None, ctypes.byref(m)) == 0, lib.vx_last_error()
    assert lib.vx_session_create(m, None, ctypes.byref(s)) == 0, lib.vx_last_error()
    n = len(inputs)
    shapes = [(ctypes.c_int64 * a.ndim)(*a.shape) for a in inputs]
    sp = (ctypes.POINTER(ctypes.c_int64) * n)(*[ctypes.cast(x, ctypes.POINTER(ctypes.c_int64)) for x in shapes])
    ranks = (ctypes.c_int32 * n)(*[a.ndim for a in inputs])
    data = (ctypes.POINTER(ctypes.c_float) * n)(*[a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)) for a in inputs])
    o = _capi.GradcamOptions()
    assert lib.vx_gradcam_options_init_sized(ctypes.byref(o), ctypes.sizeof(o)) == 0
    o.method = method
    maps = (ctypes.c_void_p * 4)()
    k = ctypes.c_size_t()
    assert lib.vx_session_gradcam(s, n, data, sp, ranks, ctypes.byref(o), 4, maps, ctypes.byref(k), None, None) == 0, \
        lib.vx_last_error()
    out = []
    for j in range(k.value):
        numel, ptr = ctypes.c_size_t(), ctypes.POINTER(ctypes.c_float)()
        lib.vx_tensor_numel(maps[j], ctypes.byref(numel))
        lib.vx_tensor_data(maps[j], ctypes.byref(ptr))
        out.append(np.ctypeslib.as_array(ptr, (numel.value,)).copy())
        lib.vx_tensor_free(maps[j])
    lib.vx_session_free(s)
    lib.vx_model_free(m)
    return out


@pytest.mark.parametrize("name", ["resnet3d", "dual"])
@pytest.mark.parametrize("method", ["gradcam", "gradcam++"])
def test_gradcam_equals_pytorch_autograd_and_the_c_api(name, method):
    info, ins = _fixture(name)
    model = voxinfer.Model(os.path.join(FX, name + ".vxm"))
    maps = model.gradcam(ins, method=method)
    assert len(maps) == len(ins)  # one map per input (the dual encoder's shared layer)
    assert maps.target == info["class"]
    suffix = "cam" if method == "gradcam" else "campp"
    capi = _capi_gradcam(os.path.join(FX, name + ".vxm"), ins, 0 if method == "gradcam" else 1)
    for i, (m, x) in enumerate(zip(maps, ins)):
        assert m.shape == x.shape[2:]
        ref = np.load(os.path.join(FX, f"{name}_{suffix}{i}.npy"))[0, 0]
        assert np.abs(m - ref).max() < 1e-4
        assert m.min() >= 0 and m.max() <= 1
        assert np.array_equal(m.ravel(), capi[i])  # bit for bit
        raw = info["raw_max" if method == "gradcam" else "raw_max_pp"][i]
        assert maps.raw_max[i] == pytest.approx(raw, rel=1e-3)


def test_gradcam_options_and_errors():
    info, ins = _fixture("resnet3d")
    model = voxinfer.Model(os.path.join(FX, "resnet3d.vxm"))
    default = model.gradcam(ins[0])
    explicit = model.gradcam(ins, layer="block_out", target=info["class"])
    assert np.array_equal(default[0], explicit[0])
    other = model.gradcam(ins, target=(info["class"] + 1) % 3)
    assert other.target == (info["class"] + 1) % 3
    assert np.abs(other[0] - default[0]).max() > 1e-3
    with pytest.raises(voxinfer.VoxinferError, match="nope"):
        model.gradcam(ins, layer="nope")
    with pytest.raises(voxinfer.VoxinferError):
        model.gradcam(ins, target=17)
    with pytest.raises(ValueError):
        model.gradcam(ins, method="lime")
    batch = np.concatenate([ins[0], ins[0][:, :, ::-1].copy()])
    maps = model.gradcam(batch)
    assert maps[0].shape == (2,) + ins[0].shape[2:]
    assert np.array_equal(maps[0][0], default[0]) and len(maps.target) == 2
