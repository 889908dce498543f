"""voxinfer: run voxinfer models (.vxm) on numpy arrays. ctypes over the C API, no compiler needed.

    import voxinfer
    model = voxinfer.Model("unet.vxm", threads=4)
    seg = model.run(volume)          # float32, N,C,D,H,W or N,C,H,W, in the model's input order

Errors raise voxinfer.VoxinferError (or a subclass) carrying the C library's message and status.
"""
import ctypes
import json
import threading

import numpy as np

from . import _capi
from ._capi import lib

__all__ = ["Model", "version", "VoxinferError", "CancelledError", "BackendUnavailableError", "read_volume",
           "api_version"]


class VoxinferError(RuntimeError):
    """A failed C API call: .status (int), .status_name (e.g. "VX_ERR_IO"), str() = the C message."""

    def __init__(self, status, message):
        self.status = status
        self.status_name = _capi.STATUS_NAMES.get(status, "VX_ERR_UNKNOWN")
        super().__init__(f"{message} [{self.status_name}]")


class CancelledError(VoxinferError):
    """The progress callback asked to stop (VX_ERR_CANCELLED)."""


class BackendUnavailableError(VoxinferError):
    """The requested backend is not in this build or machine (VX_ERR_BACKEND_UNAVAILABLE)."""


_ERRORS = {7: CancelledError, 9: BackendUnavailableError}


def _check(status):
    if status != 0:
        msg = lib.vx_last_error().decode("utf-8", "replace")
        raise _ERRORS.get(status, VoxinferError)(status, msg)


def version():
    """The run-time library version, "MAJOR.MINOR.PATCH"."""
    return lib.vx_version().decode()


def api_version():
    return version()


class _Tensor:
    """Owns one vx_tensor; numpy arrays built on it keep it alive (zero copy)."""

    def __init__(self, handle):
        self._handle = handle
        dims = (ctypes.c_int64 * _capi.VX_MAX_RANK)()
        rank = ctypes.c_int32()
        _check(lib.vx_tensor_shape(handle, dims, ctypes.byref(rank)))
        data = ctypes.POINTER(ctypes.c_float)()
        _check(lib.vx_tensor_data(handle, ctypes.byref(data)))
        shape = tuple(dims[i] for i in range(rank.value))
        self.__array_interface__ = {"shape": shape, "typestr": "<f4", "version": 3,
                                    "data": (ctypes.cast(data, ctypes.c_void_p).value or 0, False)}

    def __del__(self):
        try:
            if self._handle:
                lib.vx_tensor_free(self._handle)
                self._handle = None
        except (AttributeError, TypeError):  # interpreter shutdown
            pass


def _shape_args(arrays):
    n = len(arrays)
    shapes = [(ctypes.c_int64 * a.ndim)(*a.shape) for a in arrays]
    shape_ptrs = (ctypes.POINTER(ctypes.c_int64) * n)(*[ctypes.cast(s, ctypes.POINTER(ctypes.c_int64)) for s in shapes])
    ranks = (ctypes.c_int32 * n)(*[a.ndim for a in arrays])
    return shapes, shape_ptrs, ranks


class Model:
    """A loaded model with one inference session.

    Model(path, threads=None, backend="cpu", precision="fp32", deterministic=False,
          memory_limit=None, expected_sha256=None)

    threads: OpenMP threads per run (None = the process default). backend "cuda" raises
    BackendUnavailableError in this build. One Model runs one call at a time (calls from
    several Python threads are serialised); use one Model per thread for parallel runs — the
    C library releases the GIL while it computes.
    """

    def __init__(self, path, threads=None, backend="cpu", precision="fp32", deterministic=False,
                 memory_limit=None, expected_sha256=None):
        self._model = None
        self._session = None
        self._lock = threading.Lock()
        mo = _capi.ModelOptions()
        _check(lib.vx_model_options_init(ctypes.byref(mo)))
        if expected_sha256:
            mo.expected_sha256 = expected_sha256.encode()
        handle = ctypes.c_void_p()
        if isinstance(path, (bytes, bytearray, memoryview)):
            buf = bytes(path)
            _check(lib.vx_model_load_memory(buf, len(buf), ctypes.byref(mo), ctypes.byref(handle)))
        else:
            _check(lib.vx_model_load(str(path).encode(), ctypes.byref(mo), ctypes.byref(handle)))
        self._model = handle
        so = _capi.SessionOptions()
        _check(lib.vx_session_options_init(ctypes.byref(so)))
        if threads is not None:
            if int(threads) < 1:
                raise ValueError("threads must be >= 1 or None")
            so.threads = int(threads)
        so.backend = str(backend).encode()
        so.precision = str(precision).encode()
        so.deterministic = 1 if deterministic else 0
        so.memory_limit_bytes = int(memory_limit or 0)
        session = ctypes.c_void_p()
        _check(lib.vx_session_create(self._model, ctypes.byref(so), ctypes.byref(session)))
        self._session = session

    def close(self):
        """Frees the session and the model now (otherwise done when the object is collected)."""
        if getattr(self, "_session", None):
            lib.vx_session_free(self._session)
            self._session = None
        if getattr(self, "_model", None):
            lib.vx_model_free(self._model)
            self._model = None

    def __del__(self):
        try:
            self.close()
        except (AttributeError, TypeError):  # interpreter shutdown: module globals already gone
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _count(self, fn):
        n = ctypes.c_size_t()
        _check(fn(self._model, ctypes.byref(n)))
        return n.value

    def _names(self, count_fn, name_fn):
        out = []
        for i in range(self._count(count_fn)):
            s = ctypes.c_char_p()
            _check(name_fn(self._model, i, ctypes.byref(s)))
            out.append(s.value.decode())
        return out

    def _shapes(self, count_fn, shape_fn):
        out = []
        for i in range(self._count(count_fn)):
            dims = (ctypes.c_int64 * _capi.VX_MAX_RANK)()
            rank = ctypes.c_int32()
            _check(shape_fn(self._model, i, dims, ctypes.byref(rank)))
            out.append(tuple(dims[j] for j in range(rank.value)))
        return out

    @property
    def input_names(self):
        return self._names(lib.vx_model_num_inputs, lib.vx_model_input_name)

    @property
    def output_names(self):
        return self._names(lib.vx_model_num_outputs, lib.vx_model_output_name)

    @property
    def input_shapes(self):
        """Declared input shapes; -1 marks a dimension free at run time."""
        return self._shapes(lib.vx_model_num_inputs, lib.vx_model_input_shape)

    @property
    def output_shapes(self):
        """Output shapes as far as they follow from the declared inputs (-1 = depends on a free dim)."""
        return self._shapes(lib.vx_model_num_outputs, lib.vx_model_output_shape)

    @property
    def metadata(self):
        s = ctypes.c_char_p()
        _check(lib.vx_model_metadata_json(self._model, ctypes.byref(s)))
        return json.loads(s.value.decode("utf-8"))

    @property
    def sha256(self):
        s = ctypes.c_char_p()
        _check(lib.vx_model_sha256(self._model, ctypes.byref(s)))
        return s.value.decode()

    def run(self, *arrays, progress=None):
        """Runs the model on float32 arrays (N,C,D,H,W or N,C,H,W), one per model input in order.

        Inputs that are already C-contiguous float32 are passed without a copy; outputs are
        numpy arrays over the library's result memory (no copy). Returns one array, or a list
        when the model has several outputs. progress(stage, done, total) may return True to
        cancel: the run then raises CancelledError.
        """
        if self._session is None:
            raise VoxinferError(1, "the model is closed")
        arrays = [np.ascontiguousarray(a, dtype=np.float32) for a in arrays]
        n_in = len(arrays)
        _, shape_ptrs, ranks = _shape_args(arrays)
        data = (ctypes.POINTER(ctypes.c_float) * n_in)(
            *[a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)) for a in arrays])
        n_out = self._count(lib.vx_model_num_outputs)
        handles = (ctypes.c_void_p * n_out)()
        callback = None
        if progress is not None:
            callback = _capi.PROGRESS_FN(lambda _user, stage, done, total: 1 if progress(stage.decode(), done, total) else 0)
        with self._lock:
            if callback is not None:
                _check(lib.vx_session_set_progress(self._session, callback, None))
            try:
                status = lib.vx_session_run(self._session, n_in, data, shape_ptrs, ranks, n_out, handles)
            finally:
                if callback is not None:
                    lib.vx_session_set_progress(self._session, _capi.PROGRESS_FN(), None)
        _check(status)
        outs = [np.asarray(_Tensor(h)) for h in handles]
        return outs[0] if n_out == 1 else outs

    __call__ = run

    def gradcam(self, arrays, target=None, layer=None):
        """Grad-CAM heat map. Not available yet: the engine's Grad-CAM (branch `gradcam`) has no
        C API entry point on main; this stub raises NotImplementedError until it does."""
        raise NotImplementedError("voxinfer.Model.gradcam: the Grad-CAM engine is not in the C API yet")


def read_volume(path):
    """Reads a NIfTI volume: an object with .data indexed [i, j, k] like nibabel and .affine.
    Not available yet: NIfTI I/O (branch `io`) has no C API entry point on main; raises
    NotImplementedError until it does."""
    raise NotImplementedError("voxinfer.read_volume: NIfTI I/O is not in the C API yet")
