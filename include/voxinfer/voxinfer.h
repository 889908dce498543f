/*
 * voxinfer — the stable C API.
 *
 * C99, no C++ needed. Every function returns a vx_status (VX_OK on success) except the
 * few that return a string; on failure, vx_last_error() gives a message for this thread.
 *
 * Conventions (they hold for every function below unless its comment says otherwise):
 *  - Handles (vx_model, vx_session, vx_tensor, vx_volume) are opaque. Output parameters come last.
 *  - Handles are checked against a registry of live handles: a NULL handle, a handle that
 *    was already freed, or a pointer that never was a handle gives VX_ERR_INVALID_ARGUMENT
 *    (never a crash). A freed handle's address may be reused by a new handle of the same
 *    kind; the check cannot tell those apart.
 *  - vx_*_free accepts NULL (VX_OK); freeing twice returns VX_ERR_INVALID_ARGUMENT.
 *  - Option structs start with `size_t struct_size` and only grow, at the end. Versions have
 *    fixed sizes (VX_*_OPTIONS_SIZE_V1, _V2, ...; those of 64-bit targets, pinned by the
 *    static asserts below). Initialise a struct with vx_X_options_init(&o): a static inline
 *    function in this header that calls the exported vx_X_options_init_sized(&o, sizeof o)
 *    with the CALLER's sizeof, so the library writes the defaults for exactly the bytes the
 *    caller has, never more, and sets struct_size. Passing the struct, the library reads only
 *    its first struct_size bytes: a caller built against an older, shorter struct keeps
 *    working, and fields past its struct_size take their defaults. A struct_size that is not
 *    the size of a version this library knows (older or newer) gives VX_ERR_INVALID_ARGUMENT.
 *    (Callers compiled against API 100 call the exported vx_X_options_init symbols, which
 *    write exactly the version-1 size.) A new field never goes into an older version's
 *    padding: a version ends on an 8-byte boundary and padding is spelled out as reserved.
 *  - Every function returning vx_status is marked VX_NODISCARD (warn_unused_result; in C++17
 *    [[nodiscard]]): define VX_NO_WARN_UNUSED_RESULT before including this header to turn the
 *    warnings off.
 *  - Strings returned through `const char**` belong to the handle they came from and stay
 *    valid until it is freed. Arrays passed in are read during the call only: the library
 *    keeps no pointer to them after it returns.
 *  - Thread-safety: a vx_model is immutable and may be used from any number of threads at
 *    once (loading, querying, creating sessions). A vx_session runs on one thread at a
 *    time (it owns one executor and its memory); a second thread calling into a busy
 *    session gets VX_ERR_BUSY (since 200). Use one session per thread. vx_tensor handles
 *    are read-only and may be read from any thread.
 *  - Enums only grow; a changed signature gets a _v2 name instead of changing.
 *  - "Since" is the API version (VX_VERSION_NUMBER) that introduced the function.
 */
#ifndef VOXINFER_H
#define VOXINFER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VX_BUILDING_LIBRARY)
#define VX_API __attribute__((visibility("default")))
#else
#define VX_API
#endif

/* Marks a returned vx_status that must not be ignored (see the conventions above). */
#if defined(VX_NO_WARN_UNUSED_RESULT)
#define VX_NODISCARD
#elif defined(__cplusplus) && __cplusplus >= 201703L
#define VX_NODISCARD [[nodiscard]]
#elif defined(__GNUC__) || defined(__clang__)
#define VX_NODISCARD __attribute__((warn_unused_result))
#else
#define VX_NODISCARD
#endif

/* Compile-time checks usable from C99 and C++ (the option struct layouts below). */
#if defined(__cplusplus)
#define VX_STATIC_ASSERT(cond, name) static_assert(cond, #name)
#else
#define VX_STATIC_ASSERT(cond, name) typedef char vx_static_assert_##name[(cond) ? 1 : -1]
#endif
/* Bytes of `type` up to the end of `field`, and that rounded up to the 8-byte boundary where
 * the next version of a struct starts. */
#define VX_END_OF(type, field) (offsetof(type, field) + sizeof(((type*)0)->field))
#define VX_ROUND8(n) (((n) + 7u) / 8u * 8u)

#define VX_VERSION_MAJOR 0
#define VX_VERSION_MINOR 3
#define VX_VERSION_PATCH 0
/* API version as one number: major * 10000 + minor * 100 + patch. */
#define VX_VERSION_NUMBER (VX_VERSION_MAJOR * 10000 + VX_VERSION_MINOR * 100 + VX_VERSION_PATCH)

#if UINTPTR_MAX != 0xFFFFFFFFFFFFFFFFu
#error "voxinfer.h: the option structs' version sizes are those of 64-bit targets"
#endif

/* Tensors have at most this many dimensions (N, C, D, H, W). */
#define VX_MAX_RANK 5

typedef enum vx_status {
  VX_OK = 0,
  VX_ERR_INVALID_ARGUMENT = 1,  /* NULL handle, bad option, wrong buffer size */
  VX_ERR_SHAPE_MISMATCH = 2,    /* input or graph shapes do not fit */
  VX_ERR_IO = 3,                /* a file could not be read or written */
  VX_ERR_CORRUPT_FILE = 4,      /* a model or volume file is damaged or hostile */
  VX_ERR_UNSUPPORTED = 5,       /* an op, dtype or feature this build does not have */
  VX_ERR_OUT_OF_MEMORY = 6,
  VX_ERR_CANCELLED = 7,         /* the progress callback asked to stop */
  VX_ERR_LIMIT_EXCEEDED = 8,    /* over a configured limit (memory, size) */
  VX_ERR_BACKEND_UNAVAILABLE = 9, /* e.g. CUDA asked for where there is no GPU */
  VX_ERR_INTERNAL = 10,
  VX_ERR_BUSY = 11,             /* the session is running on another thread (since 200) */
  /* Not a value: keeps the enum 32 bits wide and lets any int32 be passed and rejected. */
  VX_STATUS_MAX_ENUM = 0x7FFFFFFF
} vx_status;

/* Log levels passed to a vx_log_fn. */
typedef enum vx_log_level {
  VX_LOG_DEBUG = 0,
  VX_LOG_INFO = 1,
  VX_LOG_WARNING = 2,
  VX_LOG_ERROR = 3,
  /* Not a value: keeps the enum 32 bits wide and lets any int32 be passed and rejected. */
  VX_LOG_MAX_ENUM = 0x7FFFFFFF
} vx_log_level;

/* A loaded model: graph, weights, metadata. Immutable; shared by many sessions. */
typedef struct vx_model vx_model;
/* One inference context over a model: an executor, its plan and its memory. */
typedef struct vx_session vx_session;
/* A float32 result tensor returned by vx_session_run; owns its data. */
typedef struct vx_tensor vx_tensor;

/*
 * Progress callback. Called on the thread that runs the session, after each step of a
 * run, with stage "run" and done/total counted in graph nodes (done == total at the end).
 * Return 0 to go on; any non-zero value cancels the run, which then returns
 * VX_ERR_CANCELLED without writing any output. `stage` is valid during the call only.
 */
typedef int (*vx_progress_fn)(void* user, const char* stage, int64_t done, int64_t total);

/* Log callback: called on the thread doing the work; `message` is valid during the call only. */
typedef void (*vx_log_fn)(void* user, vx_log_level level, const char* message);

/* ------------------------------------------------------------------------------------ */
/* Library                                                                              */

/* Run-time version, "MAJOR.MINOR.PATCH". Static storage; never free it. Thread-safe. Since 100. */
VX_API const char* vx_version(void);

/* The message of the last failed call on this thread ("" if none). Valid until the next
 * vx_* call on this thread. Never NULL. Thread-safe (the message is per thread). Since 100. */
VX_API const char* vx_last_error(void);

/* A short constant name for a status, e.g. "VX_ERR_CANCELLED". Never NULL. Since 100. */
VX_API const char* vx_status_name(vx_status status);

/* ------------------------------------------------------------------------------------ */
/* Models                                                                               */

typedef struct vx_model_options {
  size_t struct_size;          /* sizeof(vx_model_options) */
  /* NULL or "" accepts any file. Otherwise the SHA-256 of the file's bytes as 64 hex
   * digits (either case); a different file fails with VX_ERR_CORRUPT_FILE. */
  const char* expected_sha256;
  /* Refuse files larger than this many bytes (VX_ERR_LIMIT_EXCEEDED); 0 = 8 GiB. */
  uint64_t max_file_bytes;
} vx_model_options;

#define VX_MODEL_OPTIONS_SIZE_V1 24 /* API 100 */
VX_STATIC_ASSERT(VX_END_OF(vx_model_options, max_file_bytes) == VX_MODEL_OPTIONS_SIZE_V1, model_options_v1);
VX_STATIC_ASSERT(sizeof(vx_model_options) == VX_MODEL_OPTIONS_SIZE_V1, model_options_size);

/* Writes the defaults into the first `struct_size` bytes of *options, sets struct_size and
 * writes nothing past them; `struct_size` must be a version size of the struct (pass the
 * caller's sizeof, as vx_model_options_init does). Errors: VX_ERR_INVALID_ARGUMENT (NULL, a
 * size that is no version's). Thread-safe. Since 200. */
VX_NODISCARD VX_API vx_status vx_model_options_init_sized(vx_model_options* options, size_t struct_size);
#ifndef VX_CAPI_DEFINES_LEGACY_INIT
/* Fills *options with the defaults and struct_size = sizeof *options. Since 100. */
VX_NODISCARD static inline vx_status vx_model_options_init(vx_model_options* options) {
  return vx_model_options_init_sized(options, sizeof *options);
}
#endif

/* Loads and fully validates a .vxm model file. `options` may be NULL (defaults).
 * On success *out is a new handle the caller frees with vx_model_free; on failure *out is
 * set to NULL. Errors: VX_ERR_IO, VX_ERR_CORRUPT_FILE, VX_ERR_UNSUPPORTED,
 * VX_ERR_LIMIT_EXCEEDED, VX_ERR_INVALID_ARGUMENT. Thread-safe. Since 100. */
VX_NODISCARD VX_API vx_status vx_model_load(const char* path, const vx_model_options* options, vx_model** out);

/* Same, from `size` bytes at `data`. The bytes are copied or parsed during the call: the
 * caller may free them when it returns. Thread-safe. Since 100. */
VX_NODISCARD VX_API vx_status vx_model_load_memory(const void* data, size_t size, const vx_model_options* options,
                                                   vx_model** out);

/* Frees a model handle. NULL is a no-op. Sessions created from it keep its graph and
 * weights alive, so a model may be freed while its sessions are still in use; but the
 * handle itself (and strings obtained from it) is gone. Not to be called while another
 * thread uses the same handle. Since 100. */
VX_NODISCARD VX_API vx_status vx_model_free(vx_model* model);

/* Number of graph inputs / outputs. Thread-safe. Since 100. */
VX_NODISCARD VX_API vx_status vx_model_num_inputs(const vx_model* model, size_t* out);
VX_NODISCARD VX_API vx_status vx_model_num_outputs(const vx_model* model, size_t* out);

/* Name of input / output `index` (0-based). The string belongs to the model. Since 100. */
VX_NODISCARD VX_API vx_status vx_model_input_name(const vx_model* model, size_t index, const char** out);
VX_NODISCARD VX_API vx_status vx_model_output_name(const vx_model* model, size_t index, const char** out);

/* Declared shape of input `index`: *rank and dims[0..rank) (caller array of VX_MAX_RANK),
 * -1 for a dimension fixed only at run time. Since 100. */
VX_NODISCARD VX_API vx_status vx_model_input_shape(const vx_model* model, size_t index, int64_t dims[VX_MAX_RANK],
                                                   int32_t* rank);

/* Shape of output `index` as far as it follows from the declared input shapes: -1 for a
 * dimension that depends on a free input dimension. Use vx_session_output_shape for the
 * exact shape for given inputs. Since 100. */
VX_NODISCARD VX_API vx_status vx_model_output_shape(const vx_model* model, size_t index, int64_t dims[VX_MAX_RANK],
                                                    int32_t* rank);

/* The model's metadata as a JSON object (UTF-8, NUL-terminated). Belongs to the model. Since 100. */
VX_NODISCARD VX_API vx_status vx_model_metadata_json(const vx_model* model, const char** out);

/* The SHA-256 of the file the model was loaded from: 64 lower-case hex digits. Belongs to
 * the model. Since 100. */
VX_NODISCARD VX_API vx_status vx_model_sha256(const vx_model* model, const char** out);

/* ------------------------------------------------------------------------------------ */
/* Sessions                                                                             */

typedef struct vx_session_options {
  size_t struct_size;        /* sizeof(vx_session_options) */
  /* OpenMP threads used by each run of this session; 0 = the process default
   * (omp_get_max_threads() of the creating thread). The cap is set for the duration of
   * vx_session_run only, on the calling thread, and restored afterwards; the library
   * never changes the process-wide setting. */
  int32_t threads;
  /* "cpu" (NULL = "cpu") or "cuda". "cuda" gives VX_ERR_BACKEND_UNAVAILABLE in this
   * build; any other name gives VX_ERR_INVALID_ARGUMENT. */
  const char* backend;
  /* "fp32" (NULL = "fp32"). "fp16" and "bf16" give VX_ERR_UNSUPPORTED for now; other
   * names VX_ERR_INVALID_ARGUMENT. */
  const char* precision;
  /* Non-zero: use the scalar reference kernels, whose results are bit-for-bit the same for
   * any thread count and any machine with IEEE float. 0: fastest kernels for this CPU. */
  int32_t deterministic;
  /* Bytes of activation memory one run may plan; a larger input fails with
   * VX_ERR_LIMIT_EXCEEDED before running. 0 = no limit. */
  uint64_t memory_limit_bytes;
  vx_progress_fn progress;   /* NULL = none */
  void* progress_user;       /* passed back to progress */
  vx_log_fn log;             /* NULL = none */
  void* log_user;            /* passed back to log */
  /* ---- version 2 (API 200) ---- */
  /* CUDA device of backend "cuda" (ignored by "cpu"): 0, 1, ...; -1 (default) = the device in
   * $VOXINFER_CUDA_DEVICE when set, else 0. A version-1 caller gets -1. A device the machine
   * does not have gives VX_ERR_BACKEND_UNAVAILABLE; a value below -1 VX_ERR_INVALID_ARGUMENT. */
  int32_t device_index;
} vx_session_options;

#define VX_SESSION_OPTIONS_SIZE_V1 80 /* API 100 */
#define VX_SESSION_OPTIONS_SIZE_V2 88 /* API 200: device_index */
VX_STATIC_ASSERT(VX_END_OF(vx_session_options, log_user) == VX_SESSION_OPTIONS_SIZE_V1, session_options_v1);
VX_STATIC_ASSERT(offsetof(vx_session_options, device_index) == VX_SESSION_OPTIONS_SIZE_V1, session_options_v2_start);
VX_STATIC_ASSERT(VX_ROUND8(VX_END_OF(vx_session_options, device_index)) == VX_SESSION_OPTIONS_SIZE_V2,
                 session_options_v2);
VX_STATIC_ASSERT(sizeof(vx_session_options) == VX_SESSION_OPTIONS_SIZE_V2, session_options_size);

/* Writes the defaults into the first `struct_size` bytes of *options, sets struct_size and
 * writes nothing past them; `struct_size` must be a version size of the struct (pass the
 * caller's sizeof, as vx_session_options_init does). Errors: VX_ERR_INVALID_ARGUMENT (NULL, a
 * size that is no version's). Thread-safe. Since 200. */
VX_NODISCARD VX_API vx_status vx_session_options_init_sized(vx_session_options* options, size_t struct_size);
#ifndef VX_CAPI_DEFINES_LEGACY_INIT
/* Fills *options with the defaults and struct_size = sizeof *options. Since 100. */
VX_NODISCARD static inline vx_status vx_session_options_init(vx_session_options* options) {
  return vx_session_options_init_sized(options, sizeof *options);
}
#endif

/* Creates a session over `model`; `options` may be NULL (defaults). The session keeps the
 * model's graph and weights alive (it does not need the model handle afterwards). The
 * option strings are read during the call only. On failure *out is set to NULL.
 * Thread-safe with respect to the model. Since 100.
 * Warm-up: a CPU session (not a deterministic one) runs the model once on zeros at its declared
 * input shapes (a -1 batch dimension as 1) before returning, so that the first real run does not
 * pay for kernel preparation and weight packing (10-30x a later run); creation takes about one
 * run longer. Skipped when another input dimension is fixed only at run time, and with
 * VX_WARMUP=0 in the environment; a warm-up that fails is left to the first run to report. */
VX_NODISCARD VX_API vx_status vx_session_create(const vx_model* model, const vx_session_options* options,
                                                vx_session** out);

/* Frees a session. NULL is a no-op. Must not race with a run of the same session. Since 100. */
VX_NODISCARD VX_API vx_status vx_session_free(vx_session* session);

/* Replaces the session's progress callback (NULL removes it). Since 100. */
VX_NODISCARD VX_API vx_status vx_session_set_progress(vx_session* session, vx_progress_fn progress, void* user);

/*
 * Inputs of a run, shared by both run functions: `num_inputs` must equal
 * vx_model_num_inputs, in the model's input order. Input i is float32, C-contiguous
 * (row-major, N,C,D,H,W or N,C,H,W), at inputs[i], with shape
 * shapes[i][0..ranks[i]). Every fixed dimension of the declared input shape must match.
 * Inputs are only read, during the call.
 */

/* Exact shape of output `index` for the given input shapes (no data needed, nothing run).
 * Since 100. */
VX_NODISCARD VX_API vx_status vx_session_output_shape(vx_session* session, size_t num_inputs,
                                                      const int64_t* const* shapes, const int32_t* ranks, size_t index,
                                                      int64_t dims[VX_MAX_RANK], int32_t* rank);

/* Runs the model and returns its outputs as new tensor handles: outputs[j] for output j,
 * j < num_outputs (which must equal vx_model_num_outputs). The caller frees each with
 * vx_tensor_free; they stay valid after the session is freed. On failure (and on
 * cancellation) every outputs[j] is set to NULL. Not thread-safe per session. Since 100. */
VX_NODISCARD VX_API vx_status vx_session_run(vx_session* session, size_t num_inputs, const float* const* inputs,
                                             const int64_t* const* shapes, const int32_t* ranks, size_t num_outputs,
                                             vx_tensor** outputs);

/* Runs the model and writes output j into the caller's buffer outputs[j], which holds
 * capacities[j] floats. Every capacity is checked before anything runs (the exact sizes
 * come from vx_session_output_shape): a too-small buffer gives VX_ERR_INVALID_ARGUMENT
 * naming the size needed. Buffers are written only when the whole run succeeded: after a
 * failure or cancellation they are untouched. Not thread-safe per session. Since 100. */
VX_NODISCARD VX_API vx_status vx_session_run_into(vx_session* session, size_t num_inputs, const float* const* inputs,
                                                  const int64_t* const* shapes, const int32_t* ranks,
                                                  size_t num_outputs, float* const* outputs,
                                                  const size_t* capacities);

/* ------------------------------------------------------------------------------------ */
/* Result tensors                                                                       */

/* Rank and dims (caller array of VX_MAX_RANK) of a result tensor. Since 100. */
VX_NODISCARD VX_API vx_status vx_tensor_shape(const vx_tensor* tensor, int64_t dims[VX_MAX_RANK], int32_t* rank);

/* Number of float elements. Since 100. */
VX_NODISCARD VX_API vx_status vx_tensor_numel(const vx_tensor* tensor, size_t* out);

/* Pointer to the contiguous float32 data (row-major), 64-byte aligned, owned by the tensor
 * and valid until vx_tensor_free. Since 100. */
VX_NODISCARD VX_API vx_status vx_tensor_data(const vx_tensor* tensor, const float** out);

/* Frees a result tensor. NULL is a no-op. A tensor of 1 MiB or more freed while its session
 * lives goes back to that session: its next run writes an output of the same size there
 * instead of into fresh pages (the session holds at most one such buffer per model output,
 * until it is freed). May be called on any thread. Since 100. */
VX_NODISCARD VX_API vx_status vx_tensor_free(vx_tensor* tensor);

/* ------------------------------------------------------------------------------------ */
/* Volumes (since 100)                                                                  */
/*
 * A vx_volume is a 3-D float32 scan with its voxel-to-world geometry, as nibabel sees it:
 *  - dims are (nx, ny, nz): the voxel-axis order (i, j, k) of the file.
 *  - data is nx*ny*nz floats, x fastest: voxel (i, j, k) is data[(k * ny + j) * nx + i],
 *    i.e. a C-order array [nz][ny][nx] (the transpose of nibabel's get_fdata() array, whose
 *    shape is (nx, ny, nz); column-major languages such as R read it as dim c(nx, ny, nz)).
 *  - the affine is row-major 4x4, voxel index (i, j, k, 1) -> RAS+ millimetres, exactly
 *    nibabel's img.affine (sform if sform_code > 0, else qform, else the pixdim fallback).
 * A vx_volume is immutable after creation: any number of threads may read it at once.
 * It is independent of models and sessions.
 */
typedef struct vx_volume vx_volume;

typedef struct vx_volume_read_options {
  size_t struct_size;        /* sizeof(vx_volume_read_options) */
  /* Largest voxel payload accepted, in bytes (stored and as float32); a larger volume
   * gives VX_ERR_LIMIT_EXCEEDED. For .nii.gz this bounds decompression. 0 = 2 GiB. */
  uint64_t max_bytes;
  /* 0: a NaN or infinite voxel gives VX_ERR_CORRUPT_FILE; non-zero: such voxels become 0. */
  int32_t replace_non_finite;
  int32_t reserved_v1;       /* version 1's padding, spelled out; ignored */
  /* ---- version 2 (API 200) ---- */
  /* Non-zero: a DICOM series whose slice positions are not on a regular grid is resampled
   * onto one in world space, with a warning; 0 (default): such a series is refused with
   * VX_ERR_CORRUPT_FILE naming the gap. Read by vx_volume_read; ignored for NIfTI. */
  int32_t resample_uneven_slices;
} vx_volume_read_options;

#define VX_VOLUME_READ_OPTIONS_SIZE_V1 24 /* API 100 */
#define VX_VOLUME_READ_OPTIONS_SIZE_V2 32 /* API 200: resample_uneven_slices */
VX_STATIC_ASSERT(VX_END_OF(vx_volume_read_options, reserved_v1) == VX_VOLUME_READ_OPTIONS_SIZE_V1,
                 volume_read_options_v1);
VX_STATIC_ASSERT(offsetof(vx_volume_read_options, resample_uneven_slices) == VX_VOLUME_READ_OPTIONS_SIZE_V1,
                 volume_read_options_v2_start);
VX_STATIC_ASSERT(VX_ROUND8(VX_END_OF(vx_volume_read_options, resample_uneven_slices)) ==
                     VX_VOLUME_READ_OPTIONS_SIZE_V2,
                 volume_read_options_v2);
VX_STATIC_ASSERT(sizeof(vx_volume_read_options) == VX_VOLUME_READ_OPTIONS_SIZE_V2, volume_read_options_size);

/* Writes the defaults into the first `struct_size` bytes of *options, sets struct_size and
 * writes nothing past them; `struct_size` must be a version size of the struct (pass the
 * caller's sizeof, as vx_volume_read_options_init does). Errors: VX_ERR_INVALID_ARGUMENT (NULL, a
 * size that is no version's). Thread-safe. Since 200. */
VX_NODISCARD VX_API vx_status vx_volume_read_options_init_sized(vx_volume_read_options* options, size_t struct_size);
#ifndef VX_CAPI_DEFINES_LEGACY_INIT
/* Fills *options with the defaults and struct_size = sizeof *options. Since 100. */
VX_NODISCARD static inline vx_status vx_volume_read_options_init(vx_volume_read_options* options) {
  return vx_volume_read_options_init_sized(options, sizeof *options);
}
#endif

/* Reads a volume. `path` is one of: a NIfTI-1/2 file (.nii or .nii.gz; integer and float
 * types are converted to float32 with scl_slope/scl_inter applied as nibabel does), a
 * folder holding the DICOM files of one MR series (searched recursively; with several series
 * name one as "DIR#series=UID", "DIR#series-number=N" or "DIR#series-description=GLOB"), or
 * one enhanced multi-frame DICOM file (any other regular file is tried as DICOM; .hdr/.img
 * pairs are read as NIfTI/Analyze). `options` may be NULL (defaults). On success
 * *out is a new handle freed with vx_volume_free; on failure *out is NULL.
 * Errors: VX_ERR_IO (missing or unreadable path), VX_ERR_CORRUPT_FILE (damaged or hostile
 * header, truncated data), VX_ERR_UNSUPPORTED (4-D data, datatype, colour DICOM),
 * VX_ERR_LIMIT_EXCEEDED, VX_ERR_INVALID_ARGUMENT. Thread-safe. Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_read(const char* path, const vx_volume_read_options* options, vx_volume** out);

/* Creates a volume from nx*ny*nz floats at `data` (layout above; copied, the caller keeps
 * its buffer), dims = {nx, ny, nz} (each >= 1) and a row-major 4x4 `affine` (finite and
 * invertible; last row 0 0 0 1). `affine` may be NULL: the identity (1 mm, RAS).
 * On failure *out is NULL. Thread-safe. Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_create(const float* data, const int64_t dims[3], const double affine[16],
                                               vx_volume** out);

/* Creates a volume on the grid of `like` (same dims, affine and NIfTI qform/sform and their
 * codes, so a written map overlays its scan exactly) holding a copy of `data`
 * (nx*ny*nz floats, layout above). Typical use: a Grad-CAM map or a segmentation of `like`.
 * On failure *out is NULL. Thread-safe. Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_create_like(const vx_volume* like, const float* data, vx_volume** out);

/* Writes a volume as float32 NIfTI: NIfTI-1 (NIfTI-2 when a volume read from a NIfTI-2 file
 * or a dimension over 32767 needs it), .nii or .nii.gz by the name's ending (any other name
 * gives VX_ERR_INVALID_ARGUMENT). The geometry is kept: nibabel reads back the same affine.
 * Atomic: the file is written under a temporary name in the destination folder and renamed
 * into place, so on failure the destination is untouched and no partial file is left.
 * Thread-safe (two threads writing the same path: one of the complete files wins). Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_write(const vx_volume* volume, const char* path);

/* Writes `mask` (integer labels 0..65535) as a DICOM Segmentation (binary, one segment per
 * label) that references the DICOM series `reference` (a folder, "DIR#series=UID" or one
 * multi-frame file, as vx_volume_read takes it, with the default read options): same study,
 * patient and frame of reference, a new series, every frame placed on a slice of the series
 * and derived from the image there. `mask` must be on the series' voxel grid as
 * vx_volume_read reads it (e.g. created with vx_volume_create_like on it). `label_names`:
 * comma-separated names of labels 1..N, each written as a segment even when empty; NULL: the
 * non-zero labels present, named "label N". Atomic, as vx_volume_write.
 * Errors: VX_ERR_SHAPE_MISMATCH (mask not on the reference grid), VX_ERR_INVALID_ARGUMENT
 * (non-integer labels, a label above the names, no label and no names, a NIfTI reference),
 * VX_ERR_IO, VX_ERR_CORRUPT_FILE (a reference series without StudyInstanceUID or
 * FrameOfReferenceUID). Thread-safe. Since 300. */
VX_NODISCARD VX_API vx_status vx_volume_write_dicom_seg(const vx_volume* mask, const char* reference,
                                                        const char* label_names, const char* path);

/* dims[0..3) = {nx, ny, nz}. Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_dims(const vx_volume* volume, int64_t dims[3]);

/* Pointer to the nx*ny*nz floats (layout above), owned by the volume, valid until
 * vx_volume_free. Read only. Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_data(const vx_volume* volume, const float** out);

/* The row-major 4x4 voxel-to-RAS affine, copied into the caller's 16 doubles. Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_affine(const vx_volume* volume, double affine[16]);

/* Voxel size in mm along i, j, k (the lengths of the affine's first three columns). Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_spacing(const vx_volume* volume, double spacing[3]);

/* Orientation of the voxel axes as nibabel's aff2axcodes, e.g. "RAS", "LPS": three letters
 * and a NUL written into the caller's out[4]. Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_axcodes(const vx_volume* volume, char out[4]);

/* The reader's warnings about this volume, one sentence each, for the caller's log and report:
 * e.g. that a DICOM series with uneven slices was resampled onto a regular grid (with
 * resample_uneven_slices), naming the gaps. *count receives their number (0 for a volume
 * read without warnings or made by vx_volume_create*). Thread-safe. Since 300. */
VX_NODISCARD VX_API vx_status vx_volume_warning_count(const vx_volume* volume, size_t* count);

/* Warning `index` (0 <= index < count) as a NUL-terminated UTF-8 string owned by the volume and
 * valid as long as it lives. Errors: VX_ERR_INVALID_ARGUMENT (NULL, index out of range; *text
 * is then NULL). Thread-safe. Since 300. */
VX_NODISCARD VX_API vx_status vx_volume_warning(const vx_volume* volume, size_t index, const char** text);

/* A new volume with voxel axes permuted/flipped so that its axcodes are `axcodes` (three
 * letters, one of R/L, A/P, S/I each, e.g. "RAS"); values are moved, not interpolated, and
 * world coordinates are unchanged. On failure *out is NULL. Thread-safe. Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_reorient(const vx_volume* volume, const char* axcodes, vx_volume** out);

typedef enum vx_interp {
  VX_INTERP_LINEAR = 0,  /* trilinear */
  VX_INTERP_NEAREST = 1, /* for label maps */
  /* Not a value: keeps the enum 32 bits wide and lets any int32 be passed and rejected. */
  VX_INTERP_MAX_ENUM = 0x7FFFFFFF
} vx_interp;

/* Physical resampling to voxel size spacing[0..3) mm (i, j, k; 0 keeps that axis's spacing)
 * on a grid centred on the input's centre, voxel axes kept (the SimpleITK recipe); voxels
 * outside the input get 0. On failure *out is NULL. Thread-safe. Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_resample(const vx_volume* volume, const double spacing[3], vx_interp interp,
                                                 vx_volume** out);

/* Index-space resize to size[0..3) = {nx, ny, nz} voxels, as torch.nn.functional.interpolate
 * on [1, 1, nz, ny, nx] ('trilinear' with align_corners 0/1, or 'nearest'); the affine is
 * scaled so the volume covers the same world box. On failure *out is NULL. Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_resize(const vx_volume* volume, const int64_t size[3], vx_interp interp,
                                               int32_t align_corners, vx_volume** out);

/* Frees a volume. NULL is a no-op. Not to be called while another thread reads it. Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_free(vx_volume* volume);

/* ------------------------------------------------------------------------------------ */
/* Preprocessing (since 100)                                                            */

#define VX_N4_MAX_LEVELS 8

typedef struct vx_n4_options {
  size_t struct_size;             /* sizeof(vx_n4_options) */
  int32_t shrink_factor;          /* the field is fitted on the volume shrunk by this (block mean); default 1 */
  int32_t iterations[VX_N4_MAX_LEVELS]; /* maximum iterations per fitting level; default 50, 50, 50, 50 */
  int32_t iterations_count;       /* levels used from `iterations`, 1..VX_N4_MAX_LEVELS; default 4 */
  int32_t histogram_bins;         /* default 200 (ITK's NumberOfHistogramBins) */
  double convergence_threshold;   /* default 0.001 (ITK's ConvergenceThreshold) */
  int32_t use_otsu_mask;          /* non-zero: fit inside an Otsu mask (128 bins); default 0: all voxels > 0 */
  int32_t threads;                /* OpenMP threads for this call; 0 (default) = OpenMP's default */
} vx_n4_options;

#define VX_N4_OPTIONS_SIZE_V1 72 /* API 100 */
VX_STATIC_ASSERT(VX_END_OF(vx_n4_options, threads) == VX_N4_OPTIONS_SIZE_V1, n4_options_v1);
VX_STATIC_ASSERT(sizeof(vx_n4_options) == VX_N4_OPTIONS_SIZE_V1, n4_options_size);

/* Writes the defaults into the first `struct_size` bytes of *options, sets struct_size and
 * writes nothing past them; `struct_size` must be a version size of the struct (pass the
 * caller's sizeof, as vx_n4_options_init does). Errors: VX_ERR_INVALID_ARGUMENT (NULL, a
 * size that is no version's). Thread-safe. Since 200. */
VX_NODISCARD VX_API vx_status vx_n4_options_init_sized(vx_n4_options* options, size_t struct_size);
#ifndef VX_CAPI_DEFINES_LEGACY_INIT
/* Fills *options with the defaults (SimpleITK's: 4 levels x 50 iterations, no shrinking, no
 * mask) and struct_size = sizeof *options. Since 100. */
VX_NODISCARD static inline vx_status vx_n4_options_init(vx_n4_options* options) {
  return vx_n4_options_init_sized(options, sizeof *options);
}
#endif

/* N4 bias-field correction (Tustison 2010, following ITK 5.2's filter) of `in` (not modified).
 * `options` may be NULL (the defaults); it is read during the call only. Voxels <= 0 are left
 * out of the fit and returned unchanged; every other voxel is divided by the field. On success
 * *corrected, and *bias when `bias` is not NULL (the multiplicative field, > 0), are new volumes
 * on in's grid (same dims, affine, qform/sform) that the caller frees with vx_volume_free; on
 * failure they are set to NULL. Errors: VX_ERR_INVALID_ARGUMENT (bad options, no positive voxel,
 * a non-finite voxel). A volume whose positive voxels all have one value gives a copy and a field
 * of 1 (a documented no-op). Thread-safe; uses OpenMP threads inside. Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_n4(const vx_volume* in, const vx_n4_options* options, vx_volume** corrected,
                                           vx_volume** bias);

/* Deprecated since 300 (use vx_volume_preprocess with the model's declared plan): the
 * published sacroiliac-joint preprocessing chain on `in` (not modified): resample to
 * 224 x 224 x 20 voxels (i, j, k) at 1 x 1 x 3.5 mm (linear, centred grid, fill 0), clip to
 * [min, 99th percentile], N4 with the defaults of vx_n4_options_init when run_n4 is non-zero,
 * then for target "denoiser": trilinear resize (align_corners) to 192 x 192 x 20 and z-score
 * (ddof 0); for "classifier": centre crop to 172 x 172 x 16, trilinear resize (align_corners) to
 * 192 x 192 x 16 and division by the maximum. The affine follows every step. On success *out is
 * a new volume the caller frees with vx_volume_free; on failure it is NULL. Errors:
 * VX_ERR_INVALID_ARGUMENT (unknown target, a non-finite voxel, N4 on a volume with no positive
 * voxel). Never produces NaN. Thread-safe. Since 100. */
VX_NODISCARD VX_API vx_status vx_volume_preprocess_sij(const vx_volume* in, const char* target, int run_n4,
                                                       vx_volume** out);

/* Runs a declared preprocessing plan on `in` (not modified): `plan_json` is a JSON array of
 * steps, or an object with a "plan" array (a model's metadata "preprocessing" block, or the
 * "plan" a report records). Steps, in order, each {"op": NAME, parameters}: "resample"
 * (spacing, size, interp, fill), "clip_percentile" (lower, upper), "n4" (shrink_factor,
 * iterations, histogram_bins, convergence_threshold, otsu, threads), "resize" (size, interp,
 * align_corners), "crop_or_pad" (size, fill), "zscore" (ddof), "max_scale"; axis-indexed
 * arrays in voxel-axis order (i, j, k); weights/FORMAT.md and lib/preprocess/sij_recipe.h give
 * the meanings. Parsing is strict: an unknown step or parameter is an error naming it. A
 * model's own plan is in vx_model_metadata_json at "preprocessing". On success *out is a new
 * volume (its affine follows every step) the caller frees with vx_volume_free; on failure it
 * is NULL. Errors: VX_ERR_INVALID_ARGUMENT (malformed plan, a non-finite voxel, N4 on a volume
 * with no positive voxel). Thread-safe. Since 300; vx_volume_preprocess_sij is this call with
 * the published plan, kept for API 100 callers (deprecated). */
VX_NODISCARD VX_API vx_status vx_volume_preprocess(const vx_volume* in, const char* plan_json, vx_volume** out);

/* ------------------------------------------------------------------------------------ */
/* Grad-CAM (since 100)                                                                 */

typedef enum vx_cam_method {
  VX_CAM_GRADCAM = 0,    /* Selvaraju et al.: channel weights = mean gradient */
  VX_CAM_GRADCAM_PP = 1, /* Chattopadhay et al., weights as pytorch-grad-cam */
  /* Not a value: keeps the enum 32 bits wide and lets any int32 be passed and rejected. */
  VX_CAM_MAX_ENUM = 0x7FFFFFFF
} vx_cam_method;

typedef struct vx_gradcam_options {
  size_t struct_size;      /* sizeof(vx_gradcam_options) */
  int32_t method;          /* a vx_cam_method; default VX_CAM_GRADCAM */
  /* Node or tensor name of the layer; NULL or "" = the model's default (metadata
   * "gradcam_layer", else the last convolutional stage before global pooling). */
  const char* layer;
  /* Class whose raw logit (before a final Softmax/Sigmoid) is explained; -1 (default) =
   * the predicted class (argmax), per sample. */
  int64_t target_class;
  /* Resizing of the map to the input grid: -1 (default) = the model's metadata
   * preprocessing.align_corners when present, else 1; 0 or 1 as torch's align_corners. */
  int32_t align_corners;
  /* (4 bytes of padding end version 1: a version 2 starts at byte 40) */
} vx_gradcam_options;

#define VX_GRADCAM_OPTIONS_SIZE_V1 40 /* API 100 */
VX_STATIC_ASSERT(VX_ROUND8(VX_END_OF(vx_gradcam_options, align_corners)) == VX_GRADCAM_OPTIONS_SIZE_V1,
                 gradcam_options_v1);
VX_STATIC_ASSERT(sizeof(vx_gradcam_options) == VX_GRADCAM_OPTIONS_SIZE_V1, gradcam_options_size);

/* Writes the defaults into the first `struct_size` bytes of *options, sets struct_size and
 * writes nothing past them; `struct_size` must be a version size of the struct (pass the
 * caller's sizeof, as vx_gradcam_options_init does). Errors: VX_ERR_INVALID_ARGUMENT (NULL, a
 * size that is no version's). Thread-safe. Since 200. */
VX_NODISCARD VX_API vx_status vx_gradcam_options_init_sized(vx_gradcam_options* options, size_t struct_size);
#ifndef VX_CAPI_DEFINES_LEGACY_INIT
/* Fills *options with the defaults and struct_size = sizeof *options. Since 100. */
VX_NODISCARD static inline vx_status vx_gradcam_options_init(vx_gradcam_options* options) {
  return vx_gradcam_options_init_sized(options, sizeof *options);
}
#endif

/* Number of maps vx_session_gradcam returns for these options (NULL = defaults): one per
 * application of the layer, e.g. 2 for a dual encoder whose shared encoder reads two
 * inputs. Runs nothing. Since 100. */
VX_NODISCARD VX_API vx_status vx_session_gradcam_num_maps(vx_session* session, const vx_gradcam_options* options,
                                                          size_t* out);

/*
 * Grad-CAM of the session's model on the given inputs (same rules as vx_session_run).
 * `options` may be NULL (defaults). The caller provides room for `max_maps` maps; at most
 * that many are needed as vx_session_gradcam_num_maps says. On success:
 *  - *num_maps = the number of maps m; maps[0..m) are new vx_tensor handles (free each
 *    with vx_tensor_free), in execution order (input order for a dual encoder), each of
 *    shape [N, 1, (D,) H, W] on the grid of the graph input the layer was applied to,
 *    normalised to [0, 1] per sample (all zeros when the map is constant);
 *    maps[m..max_maps) are set to NULL.
 *  - target_class[0..N) (may be NULL) = the explained class per sample.
 *  - raw_max[0..m*N) (may be NULL) = the maximum of map i for sample n before
 *    normalisation at raw_max[i * N + n] (after the clamp at 0; 0 means an empty map).
 * N is the batch size of the inputs. The session's progress callback is called with stage
 * "gradcam" before (done 0, total 1) and after (1, 1) the computation; a non-zero return
 * cancels with VX_ERR_CANCELLED. On failure every maps[j] is NULL, *num_maps is 0 — except
 * when max_maps is too small: then VX_ERR_INVALID_ARGUMENT and *num_maps = the number
 * needed — and target_class and raw_max are untouched.
 * Errors: VX_ERR_INVALID_ARGUMENT (unknown layer, class out of range, bad method),
 * VX_ERR_SHAPE_MISMATCH, VX_ERR_UNSUPPORTED (an op without a backward rule), VX_ERR_CANCELLED.
 * Uses the session's kernels (the reference ones for a deterministic session) and thread
 * cap. Not thread-safe per session. Since 100.
 */
VX_NODISCARD VX_API vx_status vx_session_gradcam(vx_session* session, size_t num_inputs, const float* const* inputs,
                                                 const int64_t* const* shapes, const int32_t* ranks,
                                                 const vx_gradcam_options* options, size_t max_maps, vx_tensor** maps,
                                                 size_t* num_maps, int64_t* target_class, float* raw_max);

/* ---------------------------------------------------------------------------------------
 * Examinations: the published two-sequence pipeline (read, align, resize, denoise,
 * dual-encoder classification, one Grad-CAM map per sequence, lesion segmentation), with
 * outputs written atomically into a folder (nothing is left there on error or cancel).
 * They live in the application library libvoxinfer_pipeline.so (it links OpenCV); the
 * vx_exam_* of libvoxinfer.so load it on their first call, from the folder of libvoxinfer.so
 * (then $VOXINFER_PIPELINE_LIBRARY, then the loader's path), so a host that never runs an
 * examination never loads OpenCV. Without it they return VX_ERR_UNSUPPORTED.
 * ------------------------------------------------------------------------------------- */

/* ---- nnU-Net segmentation (imported with weights/convert.py --from-nnunet) ---- */

typedef struct vx_segment_options {
  size_t struct_size;            /* sizeof(vx_segment_options) */
  const char* folds;             /* "0,1" ...; NULL or "all" (default): every fold the model holds */
  const char* probabilities_path; /* also write the per-class probabilities (4-D float32 NIfTI); NULL (default): not */
  vx_progress_fn progress;       /* stage, done, total per tile; non-zero return cancels (VX_ERR_CANCELLED) */
  void* progress_user;
  double tile_step;              /* tile step as a fraction of the patch, in (0, 1]; 0 (default): the model's (0.5) */
  uint64_t memory_limit_bytes;   /* 0 (default): none; else VX_ERR_LIMIT_EXCEEDED before anything runs, naming the MB needed */
  int32_t no_mirroring;          /* 1: no test-time mirroring; 0 (default): every combination of the allowed axes */
  int32_t fp32_accumulation;     /* 1: tiles and folds summed in float32; 0 (default): float16, as nnU-Net */
} vx_segment_options;

#define VX_SEGMENT_OPTIONS_SIZE_V1 64 /* API 300 */
VX_STATIC_ASSERT(VX_END_OF(vx_segment_options, fp32_accumulation) == VX_SEGMENT_OPTIONS_SIZE_V1, segment_options_v1);
VX_STATIC_ASSERT(sizeof(vx_segment_options) == VX_SEGMENT_OPTIONS_SIZE_V1, segment_options_size);

/* Writes the defaults into the first `struct_size` bytes of *options, sets struct_size and
 * writes nothing past them; `struct_size` must be a version size of the struct (pass the
 * caller's sizeof, as vx_segment_options_init does). Errors: VX_ERR_INVALID_ARGUMENT (NULL, a
 * size that is no version's). Thread-safe. Since 300. */
VX_NODISCARD VX_API vx_status vx_segment_options_init_sized(vx_segment_options* options, size_t struct_size);
/* Fills defaults and struct_size = sizeof *options. Since 300. */
VX_NODISCARD static inline vx_status vx_segment_options_init(vx_segment_options* options) {
  return vx_segment_options_init_sized(options, sizeof *options);
}

/* Segments one case with an imported nnU-Net model (`model_path`, a .vxm holding
 * metadata.nnunet) as nnUNetPredictor does, and writes the labels (uint8, or uint16 above 254
 * labels) on the grid of inputs[0] to `out_path` (.nii or .nii.gz). inputs: one NIfTI file or
 * DICOM folder per model channel, in the channel order. Both files are written atomically:
 * on any error or cancellation neither exists. `options` may be NULL (defaults).
 * Errors: VX_ERR_INVALID_ARGUMENT (not an nnU-Net model, wrong number of inputs, unknown fold),
 * VX_ERR_SHAPE_MISMATCH (inputs on different grids), VX_ERR_LIMIT_EXCEEDED, VX_ERR_CANCELLED,
 * VX_ERR_IO and the readers' errors. Thread-safe (each call loads its own model). Since 300. */
VX_NODISCARD VX_API vx_status vx_segment(const char* model_path, const char* const* inputs, size_t num_inputs,
                                         const char* out_path, const vx_segment_options* options);

/* An examination pipeline: its models and one session for each. Not thread-safe: one run at a
 * time per vx_exam; create one per thread (models are loaded by each). */
typedef struct vx_exam vx_exam;

typedef struct vx_exam_options {
  size_t struct_size;     /* sizeof(vx_exam_options) */
  int32_t gradcam;        /* 1 (default): write one Grad-CAM map (NIfTI + PNG) per sequence */
  int32_t png;            /* 1 (default): PNG montages of the maps */
  int32_t denoise;        /* 1 (default): run the denoiser when the model folder has one */
  int32_t threads;        /* OpenMP threads for this run; 0 (default) = OpenMP's default */
  vx_progress_fn progress; /* stage, done, total per step; non-zero return cancels (VX_ERR_CANCELLED) */
  void* progress_user;
  /* ---- version 2 (API 300) ---- */
  /* 1: also write the lesion mask as a DICOM Segmentation (lesion_seg.dcm) and the Grad-CAM
   * overlays as secondary captures (<seq>_gradcam_sc/), referencing the input series; the
   * inputs must then be DICOM. 0 (default): NIfTI and PNG only. */
  int32_t dicom_out;
  /* How the inputs are read, as the fields of vx_volume_read_options with these names
   * (defaults 0): resample a DICOM series with uneven slices (with a warning in the report)
   * instead of refusing it; replace NaN/infinite voxels by 0 instead of refusing them. */
  int32_t resample_uneven_slices;
  int32_t replace_non_finite;
  int32_t reserved_v2; /* padding, spelled out; ignored */
} vx_exam_options;

#define VX_EXAM_OPTIONS_SIZE_V1 40 /* API 100 */
#define VX_EXAM_OPTIONS_SIZE_V2 56 /* API 300: dicom_out, resample_uneven_slices, replace_non_finite */
VX_STATIC_ASSERT(VX_END_OF(vx_exam_options, progress_user) == VX_EXAM_OPTIONS_SIZE_V1, exam_options_v1);
VX_STATIC_ASSERT(offsetof(vx_exam_options, dicom_out) == VX_EXAM_OPTIONS_SIZE_V1, exam_options_v2_start);
VX_STATIC_ASSERT(VX_END_OF(vx_exam_options, reserved_v2) == VX_EXAM_OPTIONS_SIZE_V2, exam_options_v2);
VX_STATIC_ASSERT(sizeof(vx_exam_options) == VX_EXAM_OPTIONS_SIZE_V2, exam_options_size);

/* Writes the defaults into the first `struct_size` bytes of *options, sets struct_size and
 * writes nothing past them; `struct_size` must be a version size of the struct (pass the
 * caller's sizeof, as vx_exam_options_init does). Errors: VX_ERR_INVALID_ARGUMENT (NULL, a
 * size that is no version's). Thread-safe. Since 200. */
VX_NODISCARD VX_API vx_status vx_exam_options_init_sized(vx_exam_options* options, size_t struct_size);
#ifndef VX_CAPI_DEFINES_LEGACY_INIT
/* Fills defaults and struct_size = sizeof *options. Since 100. */
VX_NODISCARD static inline vx_status vx_exam_options_init(vx_exam_options* options) {
  return vx_exam_options_init_sized(options, sizeof *options);
}
#endif

/* Loads demo_classifier.vxm (required), demo_denoiser.vxm and demo_segmenter.vxm (optional)
 * from `models_dir`; NULL searches $VOXINFER_MODELS. Since 300: when `models_dir` holds one
 * *.pipeline.json, or names a pipeline file itself, that pipeline (weights/FORMAT.md: its models
 * by SHA-256, inputs, preprocessing, stages, outputs) is validated completely and run instead
 * (a bad file is VX_ERR_INVALID_ARGUMENT, a missing model file VX_ERR_IO, naming the item; two
 * pipeline files in the folder is VX_ERR_INVALID_ARGUMENT). Free with vx_exam_free. Since 100. */
VX_NODISCARD VX_API vx_status vx_exam_create(const char* models_dir, vx_exam** out);

/* Runs the pipeline on `num_inputs` (= 2) scans (NIfTI files or DICOM folders/files, in the
 * classifier's sequence order, e.g. T1 then STIR), or on one DICOM study folder (num_inputs = 1,
 * since 300) whose series are matched to the sequences by the classifier's declared rules
 * (weights/FORMAT.md, inputs[].match; the match is in the report's "input_match"; none or several
 * matching series is VX_ERR_INVALID_ARGUMENT listing them), and writes the results into out_dir (created
 * if needed). *report_json receives the JSON report (also written as out_dir/report.json); it
 * is owned by `exam` and valid until the next vx_exam_run or vx_exam_free. Since 100. */
VX_NODISCARD VX_API vx_status vx_exam_run(vx_exam* exam, const char* const* inputs, size_t num_inputs,
                                          const char* out_dir, const vx_exam_options* options,
                                          const char** report_json);

/* Accepts NULL. Since 100. */
VX_NODISCARD VX_API vx_status vx_exam_free(vx_exam* exam);

#if defined(VX_CAPI_DEFINES_LEGACY_INIT)
/* The exported API 100 initialisers, kept for callers compiled against it: each writes
 * exactly the version-1 size. Declared for the library's own definitions only; every other
 * caller gets the static inline functions above. */
VX_NODISCARD VX_API vx_status vx_model_options_init(vx_model_options* options);
VX_NODISCARD VX_API vx_status vx_session_options_init(vx_session_options* options);
VX_NODISCARD VX_API vx_status vx_volume_read_options_init(vx_volume_read_options* options);
VX_NODISCARD VX_API vx_status vx_n4_options_init(vx_n4_options* options);
VX_NODISCARD VX_API vx_status vx_gradcam_options_init(vx_gradcam_options* options);
VX_NODISCARD VX_API vx_status vx_exam_options_init(vx_exam_options* options);
#endif

#ifdef __cplusplus
}
#endif

#endif /* VOXINFER_H */
