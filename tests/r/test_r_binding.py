"""Installs the R package (bindings/r) into a temporary library and runs its testthat tests,
which compare predict() with PyTorch and with the C API's result on the same input (written
here through the raw C API)."""
import ctypes
import os
import shutil
import subprocess

import numpy as np

from voxinfer import _capi

SRC = os.environ["VX_SOURCE_DIR"]
LIB = os.environ["VOXINFER_LIBRARY"]
FX = os.path.join(os.environ["VX_FIXTURE_DIR"], "capi")


def capi_result(model, inputs, out_path):
    lib = _capi.lib
    m, s = ctypes.c_void_p(), ctypes.c_void_p()
    assert lib.vx_model_load(model.encode(), None, ctypes.byref(m)) == 0, lib.vx_last_error()
    assert lib.vx_session_create(m, None, ctypes.byref(s)) == 0, lib.vx_last_error()
    n = len(inputs)
    shapes = [(ctypes.c_int64 * a.ndim)(*a.shape) for a in inputs]
    sp = (ctypes.POINTER(ctypes.c_int64) * n)(*[ctypes.cast(x, ctypes.POINTER(ctypes.c_int64)) for x in shapes])
    ranks = (ctypes.c_int32 * n)(*[a.ndim for a in inputs])
    data = (ctypes.POINTER(ctypes.c_float) * n)(*[a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)) for a in inputs])
    out = (ctypes.c_void_p * 1)()
    assert lib.vx_session_run(s, n, data, sp, ranks, 1, out) == 0, lib.vx_last_error()
    numel, ptr = ctypes.c_size_t(), ctypes.POINTER(ctypes.c_float)()
    lib.vx_tensor_numel(out[0], ctypes.byref(numel))
    lib.vx_tensor_data(out[0], ctypes.byref(ptr))
    np.ctypeslib.as_array(ptr, (numel.value,)).astype("<f4").tofile(out_path)
    lib.vx_tensor_free(out[0])
    lib.vx_session_free(s)
    lib.vx_model_free(m)


def capi_gradcam(model, inputs, out_prefix):
    """The raw C API's Grad-CAM maps (default options) as out_prefix{i}.f32."""
    lib = _capi.lib
    m, s = ctypes.c_void_p(), ctypes.c_void_p()
    assert lib.vx_model_load(model.encode(), None, ctypes.byref(m)) == 0, lib.vx_last_error()
    assert lib.vx_session_create(m, None, ctypes.byref(s)) == 0, lib.vx_last_error()
    n = len(inputs)
    shapes = [(ctypes.c_int64 * a.ndim)(*a.shape) for a in inputs]
    sp = (ctypes.POINTER(ctypes.c_int64) * n)(*[ctypes.cast(x, ctypes.POINTER(ctypes.c_int64)) for x in shapes])
    ranks = (ctypes.c_int32 * n)(*[a.ndim for a in inputs])
    data = (ctypes.POINTER(ctypes.c_float) * n)(*[a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)) for a in inputs])
    maps, k = (ctypes.c_void_p * 4)(), ctypes.c_size_t()
    assert lib.vx_session_gradcam(s, n, data, sp, ranks, None, 4, maps, ctypes.byref(k), None, None) == 0, \
        lib.vx_last_error()
    for j in range(k.value):
        numel, ptr = ctypes.c_size_t(), ctypes.POINTER(ctypes.c_float)()
        lib.vx_tensor_numel(maps[j], ctypes.byref(numel))
        lib.vx_tensor_data(maps[j], ctypes.byref(ptr))
        np.ctypeslib.as_array(ptr, (numel.value,)).astype("<f4").tofile(f"{out_prefix}{j}.f32")
        lib.vx_tensor_free(maps[j])
    lib.vx_session_free(s)
    lib.vx_model_free(m)


def capi_n4(path, out_path):
    """The raw C API's N4 (shrink 2, 20 x 20 iterations) of `path` as raw float32 [nz][ny][nx]."""
    lib = _capi.lib
    v, c = ctypes.c_void_p(), ctypes.c_void_p()
    assert lib.vx_volume_read(path.encode(), None, ctypes.byref(v)) == 0, lib.vx_last_error()
    o = _capi.N4Options()
    assert lib.vx_n4_options_init_sized(ctypes.byref(o), ctypes.sizeof(o)) == 0
    o.shrink_factor = 2
    o.iterations[0] = o.iterations[1] = 20
    o.iterations_count = 2
    assert lib.vx_volume_n4(v, ctypes.byref(o), ctypes.byref(c), None) == 0, lib.vx_last_error()
    dims = (ctypes.c_int64 * 3)()
    ptr = ctypes.POINTER(ctypes.c_float)()
    lib.vx_volume_dims(c, dims)
    lib.vx_volume_data(c, ctypes.byref(ptr))
    np.ctypeslib.as_array(ptr, (dims[0] * dims[1] * dims[2],)).astype("<f4").tofile(out_path)
    lib.vx_volume_free(c)
    lib.vx_volume_free(v)


def test_r_package_installs_and_its_tests_pass(tmp_path):
    r = shutil.which("R")
    assert r, "R is not installed: run scripts/install-deps.sh (r-base-core r-cran-testthat)"
    capi_result(os.path.join(FX, "tiny3d.vxm"), [np.load(os.path.join(FX, "tiny3d_in0.npy"))],
                str(tmp_path / "tiny3d_capi0.f32"))
    vfx = os.path.join(os.environ["VX_FIXTURE_DIR"], "volcam")
    capi_gradcam(os.path.join(vfx, "resnet3d.vxm"), [np.load(os.path.join(vfx, "resnet3d_in0.npy"))],
                 str(tmp_path / "resnet3d_capi_cam"))
    capi_gradcam(os.path.join(vfx, "dual.vxm"), [np.load(os.path.join(vfx, f"dual_in{i}.npy")) for i in range(2)],
                 str(tmp_path / "dual_capi_cam"))
    capi_n4(os.path.join(os.environ["VX_TEST_DATA_DIR"], "mri", "spine-cervical-sct", "t1", "t1w.nii.gz"),
            str(tmp_path / "t1w_n4.f32"))
    pkg = tmp_path / "voxinfer"
    shutil.copytree(os.path.join(SRC, "bindings", "r"), pkg)  # build outside the source tree
    rlib = tmp_path / "rlib"
    rlib.mkdir()
    env = dict(os.environ, VOXINFER_INCLUDE=os.path.join(SRC, "include"), VOXINFER_LIB=os.path.dirname(LIB),
               R_LIBS_USER=str(rlib), VX_CAPI_RESULT_DIR=str(tmp_path))
    p = subprocess.run([r, "CMD", "INSTALL", "--no-multiarch", f"--library={rlib}", str(pkg)], env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    code = (f'library(voxinfer, lib.loc = "{rlib}"); '
            f'res <- testthat::test_dir("{pkg}/tests/testthat", package = "voxinfer", load_package = "none", '
            f'stop_on_failure = TRUE, reporter = "summary")')
    p = subprocess.run(["Rscript", "-e", code], env=env, capture_output=True, text=True)
    print(p.stdout, p.stderr)
    assert p.returncode == 0, p.stdout + p.stderr
