"""ctypes declarations of the voxinfer C API (include/voxinfer/voxinfer.h), and the loader.

The library is found, in order: the path in $VOXINFER_LIBRARY; libvoxinfer.so next to this
package (or in its parent folder); the library the package was installed against (recorded by
setup.py in _installed_library.py, found through pkg-config); the dynamic loader's search path.
"""
import ctypes
import ctypes.util
import os

VX_MAX_RANK = 5

STATUS_NAMES = {
    0: "VX_OK", 1: "VX_ERR_INVALID_ARGUMENT", 2: "VX_ERR_SHAPE_MISMATCH", 3: "VX_ERR_IO",
    4: "VX_ERR_CORRUPT_FILE", 5: "VX_ERR_UNSUPPORTED", 6: "VX_ERR_OUT_OF_MEMORY", 7: "VX_ERR_CANCELLED",
    8: "VX_ERR_LIMIT_EXCEEDED", 9: "VX_ERR_BACKEND_UNAVAILABLE", 10: "VX_ERR_INTERNAL", 11: "VX_ERR_BUSY",
}

PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64)
LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)


# Option structs mirror the newest version in voxinfer.h; `init` names the sized initialiser,
# which the package calls with ctypes.sizeof of the Structure (never the library's size).
class ModelOptions(ctypes.Structure):
    init = "vx_model_options_init_sized"
    _fields_ = [("struct_size", ctypes.c_size_t), ("expected_sha256", ctypes.c_char_p),
                ("max_file_bytes", ctypes.c_uint64)]


class SessionOptions(ctypes.Structure):
    init = "vx_session_options_init_sized"
    _fields_ = [("struct_size", ctypes.c_size_t), ("threads", ctypes.c_int32), ("backend", ctypes.c_char_p),
                ("precision", ctypes.c_char_p), ("deterministic", ctypes.c_int32),
                ("memory_limit_bytes", ctypes.c_uint64), ("progress", PROGRESS_FN),
                ("progress_user", ctypes.c_void_p), ("log", LOG_FN), ("log_user", ctypes.c_void_p),
                ("device_index", ctypes.c_int32)]  # version 2


class VolumeReadOptions(ctypes.Structure):
    init = "vx_volume_read_options_init_sized"
    _fields_ = [("struct_size", ctypes.c_size_t), ("max_bytes", ctypes.c_uint64),
                ("replace_non_finite", ctypes.c_int32), ("reserved_v1", ctypes.c_int32),
                ("resample_uneven_slices", ctypes.c_int32)]  # version 2


class GradcamOptions(ctypes.Structure):
    init = "vx_gradcam_options_init_sized"
    _fields_ = [("struct_size", ctypes.c_size_t), ("method", ctypes.c_int32), ("layer", ctypes.c_char_p),
                ("target_class", ctypes.c_int64), ("align_corners", ctypes.c_int32)]


VX_N4_MAX_LEVELS = 8


class N4Options(ctypes.Structure):
    init = "vx_n4_options_init_sized"
    _fields_ = [("struct_size", ctypes.c_size_t), ("shrink_factor", ctypes.c_int32),
                ("iterations", ctypes.c_int32 * VX_N4_MAX_LEVELS), ("iterations_count", ctypes.c_int32),
                ("histogram_bins", ctypes.c_int32), ("convergence_threshold", ctypes.c_double),
                ("use_otsu_mask", ctypes.c_int32), ("threads", ctypes.c_int32)]


class ExamOptions(ctypes.Structure):
    init = "vx_exam_options_init_sized"
    _fields_ = [("struct_size", ctypes.c_size_t), ("gradcam", ctypes.c_int32), ("png", ctypes.c_int32),
                ("denoise", ctypes.c_int32), ("threads", ctypes.c_int32), ("progress", PROGRESS_FN),
                ("progress_user", ctypes.c_void_p),
                ("dicom_out", ctypes.c_int32), ("resample_uneven_slices", ctypes.c_int32),
                ("replace_non_finite", ctypes.c_int32), ("reserved_v2", ctypes.c_int32)]


class SegmentOptions(ctypes.Structure):
    init = "vx_segment_options_init_sized"
    _fields_ = [("struct_size", ctypes.c_size_t), ("folds", ctypes.c_char_p), ("probabilities_path", ctypes.c_char_p),
                ("progress", PROGRESS_FN), ("progress_user", ctypes.c_void_p), ("tile_step", ctypes.c_double),
                ("memory_limit_bytes", ctypes.c_uint64), ("no_mirroring", ctypes.c_int32),
                ("fp32_accumulation", ctypes.c_int32)]


VX_CAM_GRADCAM = 0
VX_CAM_GRADCAM_PP = 1
VX_INTERP_LINEAR = 0
VX_INTERP_NEAREST = 1


def _candidates():
    env = os.environ.get("VOXINFER_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in (here, os.path.dirname(here)):
        for name in ("libvoxinfer.so", "libvoxinfer.so.0"):
            path = os.path.join(folder, name)
            if os.path.exists(path):
                yield path
    try:
        from ._installed_library import PATH as installed
    except ImportError:  # run from the source tree: nothing was recorded
        installed = None
    if installed:
        yield installed
    yield ctypes.util.find_library("voxinfer") or "libvoxinfer.so.0"


def _load():
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise ImportError("voxinfer: cannot load libvoxinfer (set VOXINFER_LIBRARY to its path): " + "; ".join(errors))


lib = _load()

_p = ctypes.POINTER
_vp = ctypes.c_void_p
_status = ctypes.c_int
_sz = ctypes.c_size_t
_dims = _p(ctypes.c_int64)
_shapes = _p(_p(ctypes.c_int64))
_ranks = _p(ctypes.c_int32)
_floats_in = _p(_p(ctypes.c_float))

_SIGNATURES = {
    "vx_version": (ctypes.c_char_p, []),
    "vx_last_error": (ctypes.c_char_p, []),
    "vx_status_name": (ctypes.c_char_p, [ctypes.c_int]),
    "vx_model_options_init_sized": (_status, [_p(ModelOptions), _sz]),
    "vx_model_load": (_status, [ctypes.c_char_p, _p(ModelOptions), _p(_vp)]),
    "vx_model_load_memory": (_status, [ctypes.c_void_p, _sz, _p(ModelOptions), _p(_vp)]),
    "vx_model_free": (_status, [_vp]),
    "vx_model_num_inputs": (_status, [_vp, _p(_sz)]),
    "vx_model_num_outputs": (_status, [_vp, _p(_sz)]),
    "vx_model_input_name": (_status, [_vp, _sz, _p(ctypes.c_char_p)]),
    "vx_model_output_name": (_status, [_vp, _sz, _p(ctypes.c_char_p)]),
    "vx_model_input_shape": (_status, [_vp, _sz, _dims, _p(ctypes.c_int32)]),
    "vx_model_output_shape": (_status, [_vp, _sz, _dims, _p(ctypes.c_int32)]),
    "vx_model_metadata_json": (_status, [_vp, _p(ctypes.c_char_p)]),
    "vx_model_sha256": (_status, [_vp, _p(ctypes.c_char_p)]),
    "vx_session_options_init_sized": (_status, [_p(SessionOptions), _sz]),
    "vx_session_create": (_status, [_vp, _p(SessionOptions), _p(_vp)]),
    "vx_session_free": (_status, [_vp]),
    "vx_session_set_progress": (_status, [_vp, PROGRESS_FN, _vp]),
    "vx_session_output_shape": (_status, [_vp, _sz, _shapes, _ranks, _sz, _dims, _p(ctypes.c_int32)]),
    "vx_session_run": (_status, [_vp, _sz, _floats_in, _shapes, _ranks, _sz, _p(_vp)]),
    "vx_session_run_into": (_status, [_vp, _sz, _floats_in, _shapes, _ranks, _sz, _floats_in, _p(_sz)]),
    "vx_tensor_shape": (_status, [_vp, _dims, _p(ctypes.c_int32)]),
    "vx_tensor_numel": (_status, [_vp, _p(_sz)]),
    "vx_tensor_data": (_status, [_vp, _p(_p(ctypes.c_float))]),
    "vx_tensor_free": (_status, [_vp]),
    "vx_volume_read_options_init_sized": (_status, [_p(VolumeReadOptions), _sz]),
    "vx_volume_read": (_status, [ctypes.c_char_p, _p(VolumeReadOptions), _p(_vp)]),
    "vx_volume_create": (_status, [_p(ctypes.c_float), _dims, _p(ctypes.c_double), _p(_vp)]),
    "vx_volume_create_like": (_status, [_vp, _p(ctypes.c_float), _p(_vp)]),
    "vx_volume_write": (_status, [_vp, ctypes.c_char_p]),
    "vx_volume_write_dicom_seg": (_status, [_vp, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p]),
    "vx_volume_dims": (_status, [_vp, _dims]),
    "vx_volume_data": (_status, [_vp, _p(_p(ctypes.c_float))]),
    "vx_volume_affine": (_status, [_vp, _p(ctypes.c_double)]),
    "vx_volume_spacing": (_status, [_vp, _p(ctypes.c_double)]),
    "vx_volume_axcodes": (_status, [_vp, ctypes.c_char_p]),
    "vx_volume_warning_count": (_status, [_vp, ctypes.POINTER(ctypes.c_size_t)]),
    "vx_volume_warning": (_status, [_vp, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p)]),
    "vx_volume_reorient": (_status, [_vp, ctypes.c_char_p, _p(_vp)]),
    "vx_volume_resample": (_status, [_vp, _p(ctypes.c_double), ctypes.c_int, _p(_vp)]),
    "vx_volume_resize": (_status, [_vp, _dims, ctypes.c_int, ctypes.c_int32, _p(_vp)]),
    "vx_volume_free": (_status, [_vp]),
    "vx_n4_options_init_sized": (_status, [_p(N4Options), _sz]),
    "vx_volume_n4": (_status, [_vp, _p(N4Options), _p(_vp), _p(_vp)]),
    "vx_volume_preprocess": (_status, [_vp, ctypes.c_char_p, ctypes.POINTER(_vp)]),
    "vx_volume_preprocess_sij": (_status, [_vp, ctypes.c_char_p, ctypes.c_int, _p(_vp)]),
    "vx_gradcam_options_init_sized": (_status, [_p(GradcamOptions), _sz]),
    "vx_session_gradcam_num_maps": (_status, [_vp, _p(GradcamOptions), _p(_sz)]),
    "vx_session_gradcam": (_status, [_vp, _sz, _floats_in, _shapes, _ranks, _p(GradcamOptions), _sz, _p(_vp),
                                     _p(_sz), _p(ctypes.c_int64), _p(ctypes.c_float)]),
    "vx_exam_options_init_sized": (_status, [_p(ExamOptions), _sz]),
    "vx_exam_create": (_status, [ctypes.c_char_p, _p(_vp)]),
    "vx_exam_run": (_status, [_vp, _p(ctypes.c_char_p), _sz, ctypes.c_char_p, _p(ExamOptions), _p(ctypes.c_char_p)]),
    "vx_exam_free": (_status, [_vp]),
    "vx_segment_options_init_sized": (_status, [_p(SegmentOptions), _sz]),
    "vx_segment": (_status, [ctypes.c_char_p, _p(ctypes.c_char_p), _sz, ctypes.c_char_p, _p(SegmentOptions)]),
}
for _name, (_res, _args) in _SIGNATURES.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args
