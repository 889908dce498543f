"""The Python binding against PyTorch (fixtures from tests/capi/gen_capi_fixtures.py) and
against the C API called directly (vx_session_run_into through ctypes)."""
import ctypes
import hashlib
import os
import threading

import numpy as np
import pytest

import voxinfer
from voxinfer import _capi

FX = os.path.join(os.environ["VX_FIXTURE_DIR"], "capi")


def fx(name):
    path = os.path.join(FX, name)
    assert os.path.exists(path), f"fixture {path} missing: gen_capi_fixtures.py did not run"
    return path


def c_api_run(path, arrays):
    """The same run through the raw C API, into caller buffers."""
    lib = _capi.lib
    m, s = ctypes.c_void_p(), ctypes.c_void_p()
    assert lib.vx_model_load(path.encode(), None, ctypes.byref(m)) == 0
    assert lib.vx_session_create(m, None, ctypes.byref(s)) == 0
    arrays = [np.ascontiguousarray(a, np.float32) for a in arrays]
    n = len(arrays)
    shapes = [(ctypes.c_int64 * a.ndim)(*a.shape) for a in arrays]
    shape_ptrs = (ctypes.POINTER(ctypes.c_int64) * n)(*[ctypes.cast(x, ctypes.POINTER(ctypes.c_int64)) for x in shapes])
    ranks = (ctypes.c_int32 * n)(*[a.ndim for a in arrays])
    data = (ctypes.POINTER(ctypes.c_float) * n)(*[a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)) for a in arrays])
    n_out = ctypes.c_size_t()
    assert lib.vx_model_num_outputs(m, ctypes.byref(n_out)) == 0
    outs = []
    for j in range(n_out.value):
        dims = (ctypes.c_int64 * 5)()
        rank = ctypes.c_int32()
        assert lib.vx_session_output_shape(s, n, shape_ptrs, ranks, j, dims, ctypes.byref(rank)) == 0
        outs.append(np.full([dims[i] for i in range(rank.value)], -7, np.float32))
    out_ptrs = (ctypes.POINTER(ctypes.c_float) * len(outs))(*[o.ctypes.data_as(ctypes.POINTER(ctypes.c_float)) for o in outs])
    caps = (ctypes.c_size_t * len(outs))(*[o.size for o in outs])
    assert lib.vx_session_run_into(s, n, data, shape_ptrs, ranks, len(outs), out_ptrs, caps) == 0
    lib.vx_session_free(s)
    lib.vx_model_free(m)
    return outs


def test_version():
    assert voxinfer.version() == "0.3.0"


def test_tiny3d_matches_torch_and_c_api():
    x = np.load(fx("tiny3d_in0.npy"))
    ref = np.load(fx("tiny3d_out0.npy"))
    with voxinfer.Model(fx("tiny3d.vxm"), threads=2) as m:
        assert m.input_names == ["image"]
        assert m.output_names == ["out"]
        assert m.input_shapes == [(-1, 2, -1, -1, -1)]
        assert m.output_shapes == [(-1, 3, -1, -1, -1)]
        assert m.metadata["name"] == "tiny3d"
        with open(fx("tiny3d.vxm"), "rb") as f:
            assert m.sha256 == hashlib.sha256(f.read()).hexdigest()
        y = m.run(x)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    (c,) = c_api_run(fx("tiny3d.vxm"), [x])
    np.testing.assert_array_equal(y, c)


def test_several_inputs_and_outputs_in_model_order():
    a, b = np.load(fx("two_io_in0.npy")), np.load(fx("two_io_in1.npy"))
    m = voxinfer.Model(fx("two_io.vxm"))
    out = m.run(a, b)
    assert isinstance(out, list) and len(out) == 2
    np.testing.assert_allclose(out[0], np.load(fx("two_io_out0.npy")), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out[1], np.load(fx("two_io_out1.npy")), rtol=1e-5, atol=1e-6)
    for mine, theirs in zip(out, c_api_run(fx("two_io.vxm"), [a, b])):
        np.testing.assert_array_equal(mine, theirs)
    swapped = m.run(b, a)  # Sub is not symmetric: the order must matter
    assert not np.allclose(swapped[0], out[0])


def test_no_copies_and_other_dtypes():
    x = np.load(fx("tiny3d_in0.npy"))
    m = voxinfer.Model(fx("tiny3d.vxm"))
    y = m.run(x)
    assert y.flags["C_CONTIGUOUS"] and y.flags["OWNDATA"] is False  # a view on the C result
    assert y.ctypes.data % 64 == 0
    y2 = m.run(x.astype(np.float64))  # converted, same answer
    np.testing.assert_array_equal(y, y2)
    y3 = m.run(np.asfortranarray(x))  # made contiguous, same answer
    np.testing.assert_array_equal(y, y3)
    del m  # results outlive the model
    assert np.isfinite(y).all()


def test_load_from_memory_and_expected_hash():
    with open(fx("tiny3d.vxm"), "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    m = voxinfer.Model(data, expected_sha256=digest.upper())
    assert m.sha256 == digest
    with pytest.raises(voxinfer.VoxinferError) as e:
        voxinfer.Model(fx("tiny3d.vxm"), expected_sha256="0" * 64)
    assert e.value.status_name == "VX_ERR_CORRUPT_FILE"


def test_errors_carry_the_c_message():
    with pytest.raises(voxinfer.VoxinferError) as e:
        voxinfer.Model(os.path.join(FX, "does-not-exist.vxm"))
    assert e.value.status_name == "VX_ERR_IO"
    assert "does-not-exist.vxm" in str(e.value)
    with pytest.raises(voxinfer.BackendUnavailableError, match="cuda"):
        voxinfer.Model(fx("tiny3d.vxm"), backend="cuda")
    with pytest.raises(voxinfer.VoxinferError, match="unknown backend"):
        voxinfer.Model(fx("tiny3d.vxm"), backend="metal")
    with pytest.raises(voxinfer.VoxinferError, match="precision"):
        voxinfer.Model(fx("tiny3d.vxm"), precision="int4")
    m = voxinfer.Model(fx("tiny3d.vxm"))
    with pytest.raises(voxinfer.VoxinferError, match="does not fit the declared") as e:
        m.run(np.zeros((1, 3, 4, 4, 4), np.float32))
    assert e.value.status_name == "VX_ERR_SHAPE_MISMATCH"
    with pytest.raises(voxinfer.VoxinferError, match="takes 1 input"):
        m.run()
    with pytest.raises(voxinfer.VoxinferError, match="memory limit"):
        voxinfer.Model(fx("tiny3d.vxm"), memory_limit=16).run(np.zeros((1, 2, 8, 8, 8), np.float32))
    m.close()
    with pytest.raises(voxinfer.VoxinferError, match="closed"):
        m.run(np.zeros((1, 2, 4, 4, 4), np.float32))


def test_progress_and_cancel():
    x = np.load(fx("tiny3d_in0.npy"))
    m = voxinfer.Model(fx("tiny3d.vxm"))
    seen = []
    m.run(x, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert seen[-1] == ("run", 2, 2)  # 3 nodes; the executor runs Conv+Relu fused, as one step
    with pytest.raises(voxinfer.CancelledError):
        m.run(x, progress=lambda stage, done, total: done >= 1)
    m.run(x)  # still usable, callback gone


def test_threads_share_nothing_and_agree():
    x = np.load(fx("tiny3d_in0.npy"))
    ref = voxinfer.Model(fx("tiny3d.vxm"), threads=1).run(x)
    models = [voxinfer.Model(fx("tiny3d.vxm"), threads=1) for _ in range(4)]
    results = [None] * 4

    def work(i):
        results[i] = [models[i].run(x) for _ in range(3)]

    ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    for r in results:
        for y in r:
            np.testing.assert_array_equal(y, ref)
