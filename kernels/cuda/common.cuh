// What every CUDA kernel file shares: the per-session context, error recording and launch
// helpers. Kernels reach their context through the thread's bound context (see cuda_api.h).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "cuda_api.h"
#include "cuda/arena.cuh"

namespace vx::cuda {
struct ConvPlanCache;
}

struct vx_cuda_context {
  int device = 0;
  std::string description;
  cudaStream_t stream = nullptr;
  cudnnHandle_t cudnn = nullptr;
  cublasHandle_t cublas = nullptr;
  vx::cuda::Arena arena;
  void* workspace = nullptr;  // cuDNN workspace, from the arena, grown on demand
  size_t workspace_size = 0;
  std::string error;  // the first failure since the last check(); empty = none
  vx::cuda::ConvPlanCache* conv_plans = nullptr;  // owned; freed by release_conv_plans
  vx::kern::KernelTable table{};
};

namespace vx::cuda {

// The context bound to the calling thread (cuda_api.h: bind).
vx_cuda_context* current();
void set_current(vx_cuda_context* ctx);

// Records the first failure in the bound context; later ones are dropped.
void record(const std::string& what);
bool ok(cudaError_t e, const char* what);
bool ok(cudnnStatus_t e, const char* what);
bool ok(cublasStatus_t e, const char* what);
// After a kernel launch: records a launch failure.
bool launched(const char* what);

// cuDNN workspace of at least `bytes` (NULL and recorded on failure).
void* workspace(size_t bytes);

constexpr int kThreads = 256;
inline unsigned blocks(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 65535 * 16 ? (b > 0 ? b : 1) : 65535 * 16);  // grid-stride beyond
}
#define VX_CUDA_LOOP(i, n) \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); i += static_cast<int64_t>(blockDim.x) * gridDim.x)

}  // namespace vx::cuda
