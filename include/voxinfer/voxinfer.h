/*
 * voxinfer — the stable C API.
 *
 * C99, no C++ needed. Every function returns a vx_status (VX_OK on success) except the
 * few that return a string; on failure, vx_last_error() gives a message for this thread.
 * Handles are opaque. Enums only grow. Functions that free accept NULL.
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

#define VX_VERSION_MAJOR 0
#define VX_VERSION_MINOR 1
#define VX_VERSION_PATCH 0
/* API version as one number: major * 10000 + minor * 100 + patch. */
#define VX_VERSION_NUMBER (VX_VERSION_MAJOR * 10000 + VX_VERSION_MINOR * 100 + VX_VERSION_PATCH)

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
  VX_ERR_INTERNAL = 10
} vx_status;

/* Run-time version, "MAJOR.MINOR.PATCH". Static storage; never free it. Thread-safe. */
VX_API const char* vx_version(void);

/* The message of the last failed call on this thread ("" if none). Valid until the next
 * vx_* call on this thread. Never NULL. */
VX_API const char* vx_last_error(void);

/* A short constant name for a status, e.g. "VX_ERR_CANCELLED". Never NULL. */
VX_API const char* vx_status_name(vx_status status);

#ifdef __cplusplus
}
#endif

#endif /* VOXINFER_H */
