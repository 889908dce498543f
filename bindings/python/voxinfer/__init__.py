"""voxinfer: run voxinfer models (.vxm) on numpy arrays. ctypes over the C API, no compiler needed.

    import voxinfer
    model = voxinfer.Model("unet.vxm", threads=4)
    seg = model.run(volume)          # float32, N,C,D,H,W or N,C,H,W, in the model's input order
    vol = voxinfer.read_volume("t1.nii.gz")   # .data [i, j, k] as nibabel, .affine
    maps = model.gradcam([x])                 # one [0, 1] map per input, on that input's grid
    vol.like(maps[0].T).write("cam.nii.gz")   # a (D, H, W) map with the scan's geometry

Errors raise voxinfer.VoxinferError (or a subclass) carrying the C library's message and status.
"""
import ctypes
import json
import os
import threading

import numpy as np

from . import _capi
from ._capi import lib

__all__ = ["Model", "Exam", "version", "VoxinferError", "CancelledError", "BackendUnavailableError", "BusyError", "read_volume", "n4", "preprocess_sij", "segment",
           "api_version", "Volume", "CamMaps"]


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


class BusyError(VoxinferError):
    """The session is running on another thread (VX_ERR_BUSY): not a bad argument; retry later."""


_ERRORS = {7: CancelledError, 9: BackendUnavailableError, 11: BusyError}


def _check(status):
    if status != 0:
        msg = lib.vx_last_error().decode("utf-8", "replace")
        raise _ERRORS.get(status, VoxinferError)(status, msg)


def _options(cls):
    """A new option Structure holding the library's defaults, written for exactly its own size."""
    o = cls()
    _check(getattr(lib, cls.init)(ctypes.byref(o), ctypes.sizeof(cls)))
    return o


def segment(model_path, inputs, out, probabilities=None, folds=None, mirroring=True, step=None,
            memory_limit_mb=None, fp32_accumulation=False, progress=None):
    """Segments one case with an imported nnU-Net model (vx_segment, as `voxinfer segment`):
    inputs, one NIfTI file or DICOM folder per model channel; labels written to `out` (and the
    probabilities to `probabilities`), atomically. folds: None/"all" or a list of fold names.
    progress(stage, done, total) may return True to cancel (CancelledError)."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    opts = _options(_capi.SegmentOptions)
    if folds is not None and folds != "all":
        opts.folds = ",".join(str(f) for f in folds).encode()
    if probabilities is not None:
        opts.probabilities_path = str(probabilities).encode()
    opts.no_mirroring = 0 if mirroring else 1
    opts.fp32_accumulation = int(bool(fp32_accumulation))
    if step is not None:
        opts.tile_step = float(step)
    if memory_limit_mb is not None:
        opts.memory_limit_bytes = int(memory_limit_mb * 1048576)
    callback = None
    if progress is not None:
        callback = _capi.PROGRESS_FN(lambda _u, stage, done, total: 1 if progress(stage.decode(), done, total) else 0)
        opts.progress = callback
    paths = (ctypes.c_char_p * len(inputs))(*[str(p).encode() for p in inputs])
    _check(lib.vx_segment(str(model_path).encode(), paths, len(inputs), str(out).encode(), ctypes.byref(opts)))


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
          memory_limit=None, expected_sha256=None, device=None)

    threads: OpenMP threads per run (None = the process default). backend "cuda" raises
    BackendUnavailableError in this build. One Model runs one call at a time (calls from
    several Python threads are serialised); use one Model per thread for parallel runs — the
    C library releases the GIL while it computes. device: the CUDA device of backend "cuda"
    (None = $VOXINFER_CUDA_DEVICE, else 0).
    """

    def __init__(self, path, threads=None, backend="cpu", precision="fp32", deterministic=False,
                 memory_limit=None, expected_sha256=None, device=None):
        self._model = None
        self._session = None
        self._lock = threading.Lock()
        mo = _options(_capi.ModelOptions)
        if expected_sha256:
            mo.expected_sha256 = expected_sha256.encode()
        handle = ctypes.c_void_p()
        if isinstance(path, (bytes, bytearray, memoryview)):
            buf = bytes(path)
            _check(lib.vx_model_load_memory(buf, len(buf), ctypes.byref(mo), ctypes.byref(handle)))
        else:
            _check(lib.vx_model_load(str(path).encode(), ctypes.byref(mo), ctypes.byref(handle)))
        self._model = handle
        so = _options(_capi.SessionOptions)
        if threads is not None:
            if int(threads) < 1:
                raise ValueError("threads must be >= 1 or None")
            so.threads = int(threads)
        so.backend = str(backend).encode()
        so.precision = str(precision).encode()
        so.deterministic = 1 if deterministic else 0
        so.memory_limit_bytes = int(memory_limit or 0)
        if device is not None:
            so.device_index = int(device)
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

    def gradcam(self, arrays, target=None, layer=None, method="gradcam", align_corners=None):
        """Grad-CAM (method="gradcam") or Grad-CAM++ ("gradcam++") heat maps.

        arrays: the model's inputs (one array, or a list with one per model input, N,C,D,H,W or
        N,C,H,W float32). target: class index to explain (None = the predicted class). layer:
        node or tensor name (None = the model's default). align_corners: None = the model's
        metadata (else True), or a bool, for resizing the map to the input grid.
        Returns a list with one map per application of the layer (one per input for a dual
        encoder, in input order): for batch 1 each map has the spatial shape of its input
        (D, H, W), for batch N the shape (N, D, H, W); values in [0, 1]. The list also has
        .target (the explained class; a list per sample when N > 1) and .raw_max (per map, the
        maximum before normalisation; a list per sample when N > 1). Maps are read-only views of
        the library's memory (no copy).
        """
        if self._session is None:
            raise VoxinferError(1, "the model is closed")
        if isinstance(arrays, np.ndarray):
            arrays = [arrays]
        arrays = [np.ascontiguousarray(a, dtype=np.float32) for a in arrays]
        methods = {"gradcam": _capi.VX_CAM_GRADCAM, "gradcam++": _capi.VX_CAM_GRADCAM_PP,
                   "gradcampp": _capi.VX_CAM_GRADCAM_PP, "gradcam_pp": _capi.VX_CAM_GRADCAM_PP}
        if method not in methods:
            raise ValueError(f"method must be one of {sorted(methods)}, not {method!r}")
        opts = _options(_capi.GradcamOptions)
        opts.method = methods[method]
        if layer is not None:
            opts.layer = str(layer).encode()
        if target is not None:
            if int(target) < 0:
                raise ValueError("target must be a class index >= 0 or None")
            opts.target_class = int(target)
        if align_corners is not None:
            opts.align_corners = 1 if align_corners else 0
        n_in = len(arrays)
        _, shape_ptrs, ranks = _shape_args(arrays)
        data = (ctypes.POINTER(ctypes.c_float) * n_in)(
            *[a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)) for a in arrays])
        batch = arrays[0].shape[0] if arrays and arrays[0].ndim else 1
        with self._lock:
            room = ctypes.c_size_t()
            _check(lib.vx_session_gradcam_num_maps(self._session, ctypes.byref(opts), ctypes.byref(room)))
            room = max(room.value, 1)
            handles = (ctypes.c_void_p * room)()
            n = ctypes.c_size_t()
            classes = (ctypes.c_int64 * max(batch, 1))()
            raw = (ctypes.c_float * (room * max(batch, 1)))()
            status = lib.vx_session_gradcam(self._session, n_in, data, shape_ptrs, ranks, ctypes.byref(opts), room,
                                            handles, ctypes.byref(n), classes, raw)
        _check(status)
        maps = []
        for j in range(n.value):
            m = np.asarray(_Tensor(handles[j]))  # [N, 1, (D,) H, W]
            maps.append(m[0, 0] if batch == 1 else m[:, 0])
        out = CamMaps(maps)
        out.target = int(classes[0]) if batch == 1 else [int(classes[i]) for i in range(batch)]
        out.raw_max = [float(raw[j * batch]) if batch == 1 else [float(raw[j * batch + i]) for i in range(batch)]
                       for j in range(n.value)]
        return out


class CamMaps(list):
    """The maps of Model.gradcam, with .target and .raw_max."""
    target = None
    raw_max = None


class _VolumeHandle:
    """Owns one vx_volume; arrays viewing its data keep it alive."""

    def __init__(self, handle):
        self.handle = handle

    def __del__(self):
        try:
            if self.handle:
                lib.vx_volume_free(self.handle)
                self.handle = None
        except (AttributeError, TypeError):  # interpreter shutdown
            pass


class _VolumeBuffer:
    def __init__(self, owner, dims):
        self._owner = owner  # keeps the vx_volume alive as long as a view exists
        ptr = ctypes.POINTER(ctypes.c_float)()
        _check(lib.vx_volume_data(owner.handle, ctypes.byref(ptr)))
        self.__array_interface__ = {"shape": (dims[2], dims[1], dims[0]), "typestr": "<f4", "version": 3,
                                    "data": (ctypes.cast(ptr, ctypes.c_void_p).value or 0, True)}


class Volume:
    """A 3-D scan with its geometry, as nibabel sees it.

    .data   float32 array of shape (nx, ny, nz) indexed [i, j, k] exactly like nibabel's
            img.get_fdata() (values as float32): a read-only view of the library's buffer (the
            C-order [nz][ny][nx] array viewed as its transpose; no copy).
    .affine 4x4 float64 voxel -> RAS+ mm, as nibabel's img.affine.
    """

    def __init__(self, handle):
        self._h = _VolumeHandle(handle)
        dims = (ctypes.c_int64 * 3)()
        _check(lib.vx_volume_dims(handle, dims))
        self.shape = (dims[0], dims[1], dims[2])
        self.data = np.asarray(_VolumeBuffer(self._h, self.shape)).T
        aff = (ctypes.c_double * 16)()
        _check(lib.vx_volume_affine(handle, aff))
        self.affine = np.array(aff[:], dtype=np.float64).reshape(4, 4)
        self.affine.flags.writeable = False

    @classmethod
    def from_array(cls, data, affine=None):
        """A volume holding a copy of `data` (shape (nx, ny, nz), indexed [i, j, k]) with `affine`
        (4x4; None = identity)."""
        data = np.asarray(data)
        if data.ndim != 3:
            raise ValueError(f"data must be 3-D (nx, ny, nz), has shape {data.shape}")
        buf = np.ascontiguousarray(data.astype(np.float32, copy=False).T)  # C-order [nz][ny][nx]
        dims = (ctypes.c_int64 * 3)(*data.shape)
        aff = None
        if affine is not None:
            a = np.asarray(affine, dtype=np.float64)
            if a.shape != (4, 4):
                raise ValueError(f"affine must be 4x4, is {a.shape}")
            aff = (ctypes.c_double * 16)(*a.ravel().tolist())
        h = ctypes.c_void_p()
        _check(lib.vx_volume_create(buf.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), dims, aff, ctypes.byref(h)))
        return cls(h)

    def like(self, data):
        """A volume on this volume's grid and geometry (qform/sform kept) holding a copy of `data`,
        shape (nx, ny, nz) indexed [i, j, k] like .data. A model map on the scan's grid has shape
        (D, H, W) = (nz, ny, nx): pass map.T."""
        data = np.asarray(data, dtype=np.float32)
        if data.shape != self.shape:
            raise ValueError(f"data has shape {data.shape}; this volume is {self.shape} (a (D, H, W) map: pass map.T)")
        buf = np.ascontiguousarray(data.T)
        h = ctypes.c_void_p()
        _check(lib.vx_volume_create_like(self._h.handle, buf.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                         ctypes.byref(h)))
        return Volume(h)

    def write(self, path):
        """Writes float32 NIfTI (.nii or .nii.gz) with this geometry, atomically."""
        _check(lib.vx_volume_write(self._h.handle, str(path).encode()))

    def write_dicom_seg(self, reference, path, label_names=None):
        """Writes this label mask (integers 0..65535, on the grid of the DICOM series `reference`
        as read_volume reads it, e.g. made with reference_volume.like(...)) as a DICOM
        Segmentation referencing that series, atomically. `label_names`: names of labels 1..N,
        each a segment even when empty; None: the non-zero labels present."""
        names = None if label_names is None else ",".join(label_names).encode()
        _check(lib.vx_volume_write_dicom_seg(self._h.handle, str(reference).encode(), names, str(path).encode()))

    @property
    def spacing(self):
        s = (ctypes.c_double * 3)()
        _check(lib.vx_volume_spacing(self._h.handle, s))
        return tuple(s)

    @property
    def axcodes(self):
        b = ctypes.create_string_buffer(4)
        _check(lib.vx_volume_axcodes(self._h.handle, b))
        return b.value.decode()

    @property
    def warnings(self):
        """The reader's warnings about this volume (e.g. an uneven DICOM series resampled onto a
        regular grid), one sentence each; empty when there were none."""
        n = ctypes.c_size_t()
        _check(lib.vx_volume_warning_count(self._h.handle, ctypes.byref(n)))
        out = []
        for i in range(n.value):
            t = ctypes.c_char_p()
            _check(lib.vx_volume_warning(self._h.handle, i, ctypes.byref(t)))
            out.append(t.value.decode())
        return tuple(out)

    def reorient(self, axcodes="RAS"):
        h = ctypes.c_void_p()
        _check(lib.vx_volume_reorient(self._h.handle, str(axcodes).encode(), ctypes.byref(h)))
        return Volume(h)

    def resample(self, spacing, interp="linear"):
        s = (ctypes.c_double * 3)(*[float(x) for x in spacing])
        h = ctypes.c_void_p()
        _check(lib.vx_volume_resample(self._h.handle, s, _interp(interp), ctypes.byref(h)))
        return Volume(h)

    def resize(self, size, interp="linear", align_corners=False):
        s = (ctypes.c_int64 * 3)(*[int(x) for x in size])
        h = ctypes.c_void_p()
        _check(lib.vx_volume_resize(self._h.handle, s, _interp(interp), 1 if align_corners else 0, ctypes.byref(h)))
        return Volume(h)

    def __repr__(self):
        return f"<voxinfer.Volume {self.shape} {self.axcodes} spacing {tuple(round(x, 4) for x in self.spacing)}>"


def _interp(name):
    table = {"linear": _capi.VX_INTERP_LINEAR, "nearest": _capi.VX_INTERP_NEAREST}
    if name not in table:
        raise ValueError(f"interp must be 'linear' or 'nearest', not {name!r}")
    return table[name]


def read_volume(path, max_bytes=None, replace_non_finite=False, resample_uneven_slices=False):
    """Reads a NIfTI file (.nii, .nii.gz), a DICOM series folder or an enhanced DICOM file.
    Returns a Volume: .data indexed [i, j, k] like nibabel's get_fdata(), .affine as nibabel.
    resample_uneven_slices: a DICOM series whose slices are not on a regular grid is resampled
    onto one (with a warning) instead of refused."""
    o = _options(_capi.VolumeReadOptions)
    if max_bytes:
        o.max_bytes = int(max_bytes)
    o.replace_non_finite = 1 if replace_non_finite else 0
    o.resample_uneven_slices = 1 if resample_uneven_slices else 0
    h = ctypes.c_void_p()
    _check(lib.vx_volume_read(str(path).encode(), ctypes.byref(o), ctypes.byref(h)))
    return Volume(h)


def n4(volume, shrink=1, iterations=(50, 50, 50, 50), otsu=False, histogram_bins=200,
       convergence_threshold=0.001, threads=0):
    """N4 bias-field correction of a Volume (SimpleITK's defaults: 4 levels x 50 iterations, no
    shrinking, no mask). Voxels <= 0 are left out of the fit and returned unchanged.
    Returns (corrected, bias): two Volumes on the input's grid (same affine)."""
    its = [int(x) for x in iterations]
    if not 1 <= len(its) <= _capi.VX_N4_MAX_LEVELS:
        raise ValueError(f"iterations must have 1..{_capi.VX_N4_MAX_LEVELS} levels, has {len(its)}")
    o = _options(_capi.N4Options)
    o.shrink_factor = int(shrink)
    for i, n in enumerate(its):
        o.iterations[i] = n
    o.iterations_count = len(its)
    o.histogram_bins = int(histogram_bins)
    o.convergence_threshold = float(convergence_threshold)
    o.use_otsu_mask = 1 if otsu else 0
    o.threads = int(threads)
    corrected, bias = ctypes.c_void_p(), ctypes.c_void_p()
    _check(lib.vx_volume_n4(volume._h.handle, ctypes.byref(o), ctypes.byref(corrected), ctypes.byref(bias)))
    return Volume(corrected), Volume(bias)


def preprocess(volume, plan):
    """Runs a declared preprocessing plan on a Volume and returns a new Volume (its affine follows
    every step). `plan`: a list of steps ({"op": ..., parameters}), a dict holding one at "plan"
    (a model's metadata["preprocessing"], or a report's), or its JSON text. The steps and their
    parameters are those of vx_volume_preprocess in voxinfer.h; an unknown step or parameter
    raises VoxinferError naming it."""
    text = plan if isinstance(plan, str) else json.dumps(plan)
    h = ctypes.c_void_p()
    _check(lib.vx_volume_preprocess(volume._h.handle, text.encode(), ctypes.byref(h)))
    return Volume(h)


def preprocess_sij(volume, target, n4=True):
    """The published sacroiliac-joint preprocessing chain on a Volume: resample to 224 x 224 x 20
    at 1 x 1 x 3.5 mm, clip to [min, p99], N4 (unless n4=False), then target "denoiser" (resize to
    192 x 192 x 20, z-score) or "classifier" (crop to 172 x 172 x 16, resize to 192 x 192 x 16,
    divide by the maximum). Returns a new Volume."""
    h = ctypes.c_void_p()
    _check(lib.vx_volume_preprocess_sij(volume._h.handle, str(target).encode(), 1 if n4 else 0, ctypes.byref(h)))
    return Volume(h)


class Exam:
    """The published two-sequence examination pipeline (see vx_exam_* in voxinfer.h).

    Exam(models_dir, threads=None): loads demo_classifier.vxm (+ demo_denoiser.vxm and
    demo_segmenter.vxm when present) from models_dir, or runs the pipeline file models_dir
    names, or the one *.pipeline.json in it (weights/FORMAT.md). exam.run([t1, stir], out_dir) reads the
    scans (NIfTI files or DICOM folders), writes the results into out_dir atomically and
    returns the report as a dict. One run at a time per Exam; use one Exam per thread/worker.
    """

    def __init__(self, models_dir, threads=None):
        self._exam = None
        self._threads = int(threads or 0)
        if self._threads < 0:
            raise ValueError("threads must be >= 1 or None")
        h = ctypes.c_void_p()
        _check(lib.vx_exam_create(str(models_dir).encode(), ctypes.byref(h)))
        self._exam = h
        self._lock = threading.Lock()

    def run(self, inputs, out_dir, gradcam=True, png=True, denoise=True, progress=None, dicom_out=False,
            resample_uneven_slices=False, replace_non_finite=False):
        """inputs: [t1, stir] (NIfTI files or DICOM folders), or one DICOM study folder (a path or
        a list of one) whose series are matched to the sequences by the classifier's rules (the
        match is in the report's "input_match"). dicom_out: also a DICOM Segmentation of the lesion
        mask and secondary captures of the Grad-CAM overlays (DICOM inputs only)."""
        if isinstance(inputs, (str, os.PathLike)):
            inputs = [inputs]
        opts = _options(_capi.ExamOptions)
        opts.gradcam, opts.png, opts.denoise, opts.threads = int(gradcam), int(png), int(denoise), self._threads
        opts.dicom_out = int(dicom_out)
        opts.resample_uneven_slices, opts.replace_non_finite = int(resample_uneven_slices), int(replace_non_finite)
        callback = None
        if progress is not None:
            callback = _capi.PROGRESS_FN(lambda _u, stage, done, total: 1 if progress(stage.decode(), done, total) else 0)
            opts.progress = callback
        paths = (ctypes.c_char_p * len(inputs))(*[str(p).encode() for p in inputs])
        report = ctypes.c_char_p()
        with self._lock:
            _check(lib.vx_exam_run(self._exam, paths, len(inputs), str(out_dir).encode(), ctypes.byref(opts),
                                   ctypes.byref(report)))
            return json.loads(report.value.decode())

    def close(self):
        if getattr(self, "_exam", None):
            lib.vx_exam_free(self._exam)
            self._exam = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
