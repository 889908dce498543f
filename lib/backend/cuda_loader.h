// Loads the CUDA module (libvoxinfer_cuda.so) on first use. The core library links no CUDA
// library: the module is dlopen()ed only when a session asks for backend "cuda", searched
//   1. next to the library (or executable) that contains this code,
//   2. at $VOXINFER_CUDA_LIBRARY (a full path),
//   3. by the dynamic loader's path (LD_LIBRARY_PATH, rpath, ld.so.cache).
// Every failure (module missing, wrong version, no driver, no device, device index out of
// range) throws Error(Status::backend_unavailable, "<why>"). Thread-safe; the module stays
// loaded for the life of the process.
#pragma once
#include <memory>
#include <string>

#include "exec/backend.h"

struct vx_cuda_api_v1;

namespace vx::backend {

// The module's table (loads it on the first call).
const vx_cuda_api_v1& cuda_api();

// The device index a session uses: $VOXINFER_CUDA_DEVICE, or 0 when unset. A value that is
// not a non-negative integer throws Error(Status::invalid_argument).
int cuda_device_from_env();

// An executor backend on CUDA device `device`: one context (stream, cuDNN, cuBLAS, arena).
std::shared_ptr<ExecBackend> make_cuda_backend(int device);

// "NVIDIA H100 ..., sm_90, 79 GiB, cuDNN 91900" for a backend made above ("" otherwise).
std::string cuda_backend_description(const ExecBackend& backend);

// Arena bytes of a backend made above: reserved from the device and peak in use.
void cuda_backend_memory(const ExecBackend& backend, size_t* reserved, size_t* peak);

}  // namespace vx::backend
