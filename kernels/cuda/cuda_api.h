// The one entry point of libvoxinfer_cuda.so and the table of functions it returns.
//
// The core library never links CUDA: lib/backend/cuda_loader.cpp dlopen()s the module when a
// session asks for backend "cuda", resolves `vx_cuda_backend_v1` and checks `version` and
// `struct_size` before using any field (ONNX Runtime style). The table only grows at the end;
// the static_asserts below pin its layout. Both sides are compiled from this header with the
// same C++ ABI (the KernelTable is a C++ struct of plain function pointers).
//
// Contexts: one per session = one device, one stream, one cuDNN and one cuBLAS handle, and a
// device arena (cudaMalloc in large chunks, sub-allocated first-fit). The kernel table has no
// context argument, so kernels use the context bound to the calling thread by `bind`; a
// session binds before every run (one session runs on one thread at a time).
//
// Errors: functions returning int give 0 on success, or non-zero with a message in `err`
// (NUL-terminated, truncated to err_size). Kernels cannot return a status: a failure is kept
// in the context (the first one wins) and returned by `check`, which the executor calls
// after each node without synchronising.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernel_table.h"

extern "C" {

typedef struct vx_cuda_context vx_cuda_context;

#define VX_CUDA_API_VERSION 1u

typedef struct vx_cuda_api_v1 {
  uint32_t version;      // VX_CUDA_API_VERSION of the module
  uint32_t struct_size;  // sizeof(vx_cuda_api_v1) as the module was built
  // Number of usable devices; 0 with a message when there is no driver or no device.
  int (*device_count)(int* count, char* err, size_t err_size);
  // A context on `device` (0-based); fails when the index is out of range.
  int (*context_create)(int device, vx_cuda_context** out, char* err, size_t err_size);
  void (*context_free)(vx_cuda_context* ctx);  // NULL is a no-op
  // "NVIDIA H100 80GB HBM3, sm_90, 79 GiB" — for logs.
  void (*describe)(const vx_cuda_context* ctx, char* buf, size_t size);
  // Makes `ctx` the calling thread's current context (cudaSetDevice + the kernels' context).
  int (*bind)(vx_cuda_context* ctx, char* err, size_t err_size);
  // The kernels; they operate on device pointers of the bound context, on its stream.
  const vx::kern::KernelTable* (*kernels)(vx_cuda_context* ctx);
  // Device memory from the context's arena (256-byte aligned); NULL with a message on failure.
  void* (*alloc)(vx_cuda_context* ctx, size_t bytes, char* err, size_t err_size);
  void (*free)(vx_cuda_context* ctx, void* ptr);  // NULL is a no-op
  // Copies on the context's stream; to_host waits for the data. Return 0 or an error.
  int (*to_device)(vx_cuda_context* ctx, void* dst, const void* src, size_t bytes, char* err, size_t err_size);
  int (*to_host)(vx_cuda_context* ctx, void* dst, const void* src, size_t bytes, char* err, size_t err_size);
  // The first kernel failure since the last call (and clears it); 0 when none. No sync.
  int (*check)(vx_cuda_context* ctx, char* err, size_t err_size);
  // Waits for the stream; returns any kernel or asynchronous CUDA failure.
  int (*synchronize)(vx_cuda_context* ctx, char* err, size_t err_size);
  // Arena bytes reserved from the device (cudaMalloc), in use now, and the peak in use.
  void (*memory_stats)(const vx_cuda_context* ctx, size_t* reserved, size_t* in_use, size_t* peak);
} vx_cuda_api_v1;

// Returns the table, or NULL when the module cannot serve `version`.
typedef const vx_cuda_api_v1* (*vx_cuda_backend_v1_fn)(uint32_t version);
#define VX_CUDA_ENTRY_POINT "vx_cuda_backend_v1"

}  // extern "C"

static_assert(offsetof(vx_cuda_api_v1, device_count) == 8, "vx_cuda_api_v1 layout changed");
static_assert(sizeof(void*) != 8 || sizeof(vx_cuda_api_v1) == 8 + 13 * 8, "vx_cuda_api_v1 layout changed");
