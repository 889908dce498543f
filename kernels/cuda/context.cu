// The module's entry point, contexts (device, stream, handles, arena) and error plumbing.
#include <cstdio>
#include <cstring>

#include "cuda/common.cuh"
#include "cuda/conv.cuh"
#include "cuda/elementwise.cuh"
#include "cuda/linear.cuh"
#include "cuda/pad.cuh"
#include "cuda/pool.cuh"
#include "cuda/resize.cuh"
#include "cuda/softmax.cuh"

#define VX_CUDA_EXPORT __attribute__((visibility("default")))

namespace vx::cuda {

namespace {
thread_local vx_cuda_context* t_current = nullptr;

int set_err(char* err, size_t size, const std::string& msg) {
  if (err && size) {
    std::snprintf(err, size, "%s", msg.c_str());
  }
  return 1;
}

// DeviceMemory has no context argument either: it works on the bound context.
void* mem_alloc(size_t bytes) {
  vx_cuda_context* c = current();
  if (!c) return nullptr;
  std::string err;
  void* p = c->arena.alloc(bytes, err);
  if (!p) record(err);
  return p;
}
void mem_free(void* p) {
  if (vx_cuda_context* c = current()) c->arena.free(p);
}
void mem_to_device(void* dst, const void* src, size_t bytes) {
  vx_cuda_context* c = current();
  if (c && bytes) ok(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->stream), "copy to device");
  // Pageable host memory is staged before cudaMemcpyAsync returns, so `src` may be freed now.
}
void mem_to_host(void* dst, const void* src, size_t bytes) {
  vx_cuda_context* c = current();
  if (!c || !bytes) return;
  if (ok(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, c->stream), "copy to host"))
    ok(cudaStreamSynchronize(c->stream), "copy to host");
}
const kern::DeviceMemory kMemory = {mem_alloc, mem_free, mem_to_device, mem_to_host};

kern::KernelTable make_table() {
  kern::KernelTable t{};  // every entry is set: no host fallback can run on device pointers
  t.name = "cuda";
  t.conv = route_conv_cuda;
  t.conv_transpose = route_conv_transpose_cuda;
  t.channel_affine = channel_affine_f32__cuda_direct;
  t.unary = unary_f32__cuda_direct;
  t.binary = binary_f32__cuda_direct;
  t.softmax = softmax_f32__cuda_direct;
  t.pool = pool_f32__cuda_direct;
  t.adaptive_pool = adaptive_pool_f32__cuda_direct;
  t.resize = resize_f32__cuda_direct;
  t.linear = linear_f32__cublas_gemm;
  t.pad = pad_f32__cuda_direct;
  t.copy = copy_f32__cuda_direct;
  t.memory = &kMemory;
  return t;
}

int device_count(int* count, char* err, size_t size) {
  *count = 0;
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return set_err(err, size, std::string("no usable CUDA driver or device (") + cudaGetErrorName(e) + ": " +
                                  cudaGetErrorString(e) + ")");
  }
  if (n == 0) return set_err(err, size, "the CUDA driver reports no device");
  *count = n;
  return 0;
}

void context_free(vx_cuda_context* c) {
  if (!c) return;
  cudaSetDevice(c->device);
  if (c->stream) cudaStreamSynchronize(c->stream);
  release_conv_plans(c);
  if (c->cublas) cublasDestroy(c->cublas);
  if (c->cudnn) cudnnDestroy(c->cudnn);
  if (c->stream) cudaStreamDestroy(c->stream);
  if (t_current == c) t_current = nullptr;
  delete c;  // the arena returns its chunks to the device
}

int context_create(int device, vx_cuda_context** out, char* err, size_t size) {
  *out = nullptr;
  int n = 0;
  if (device_count(&n, err, size)) return 1;
  if (device < 0 || device >= n)
    return set_err(err, size, "CUDA device index " + std::to_string(device) + " is out of range: " +
                                  std::to_string(n) + " device(s) present (VOXINFER_CUDA_DEVICE)");
  auto c = std::make_unique<vx_cuda_context>();
  c->device = device;
  cudaDeviceProp prop{};
  cudaError_t e = cudaSetDevice(device);
  if (e == cudaSuccess) e = cudaGetDeviceProperties(&prop, device);
  if (e == cudaSuccess) e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return set_err(err, size, std::string("cannot open CUDA device: ") + cudaGetErrorString(e));
  }
  if (cudnnCreate(&c->cudnn) != CUDNN_STATUS_SUCCESS || cudnnSetStream(c->cudnn, c->stream) != CUDNN_STATUS_SUCCESS) {
    context_free(c.release());
    return set_err(err, size, "cannot create a cuDNN handle (is libcudnn 9 installed and matching the driver?)");
  }
  if (cublasCreate(&c->cublas) != CUBLAS_STATUS_SUCCESS || cublasSetStream(c->cublas, c->stream) != CUBLAS_STATUS_SUCCESS ||
      cublasSetMathMode(c->cublas, CUBLAS_PEDANTIC_MATH) != CUBLAS_STATUS_SUCCESS) {  // no TF32
    context_free(c.release());
    return set_err(err, size, "cannot create a cuBLAS handle");
  }
  c->description = std::string(prop.name) + ", sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " +
                    std::to_string(prop.totalGlobalMem >> 30) + " GiB, cuDNN " + std::to_string(cudnnGetVersion());
  c->table = make_table();
  *out = c.release();
  return 0;
}

void describe(const vx_cuda_context* c, char* buf, size_t size) {
  if (buf && size) std::snprintf(buf, size, "%s", c ? c->description.c_str() : "");
}

int bind(vx_cuda_context* c, char* err, size_t size) {
  const cudaError_t e = cudaSetDevice(c->device);
  if (e != cudaSuccess) return set_err(err, size, std::string("cudaSetDevice: ") + cudaGetErrorString(e));
  set_current(c);
  return 0;
}

const kern::KernelTable* kernels(vx_cuda_context* c) { return &c->table; }

void* alloc(vx_cuda_context* c, size_t bytes, char* err, size_t size) {
  std::string e;
  void* p = c->arena.alloc(bytes, e);
  if (!p) set_err(err, size, e);
  return p;
}

void free_(vx_cuda_context* c, void* p) {
  if (c) c->arena.free(p);
}

int take_error(vx_cuda_context* c, char* err, size_t size) {
  if (c->error.empty()) return 0;
  set_err(err, size, c->error);
  c->error.clear();
  return 1;
}

int to_device(vx_cuda_context* c, void* dst, const void* src, size_t bytes, char* err, size_t size) {
  vx_cuda_context* prev = current();
  set_current(c);
  mem_to_device(dst, src, bytes);
  set_current(prev);
  return take_error(c, err, size);
}

int to_host(vx_cuda_context* c, void* dst, const void* src, size_t bytes, char* err, size_t size) {
  vx_cuda_context* prev = current();
  set_current(c);
  mem_to_host(dst, src, bytes);
  set_current(prev);
  return take_error(c, err, size);
}

int check(vx_cuda_context* c, char* err, size_t size) { return take_error(c, err, size); }

int synchronize(vx_cuda_context* c, char* err, size_t size) {
  const cudaError_t e = cudaStreamSynchronize(c->stream);
  if (e != cudaSuccess && c->error.empty()) c->error = std::string("CUDA: ") + cudaGetErrorString(e);
  return take_error(c, err, size);
}

void memory_stats(const vx_cuda_context* c, size_t* reserved, size_t* in_use, size_t* peak) {
  if (reserved) *reserved = c->arena.reserved();
  if (in_use) *in_use = c->arena.in_use();
  if (peak) *peak = c->arena.peak();
}

const vx_cuda_api_v1 kApi = {
    VX_CUDA_API_VERSION, sizeof(vx_cuda_api_v1), device_count, context_create, context_free, describe, bind, kernels,
    alloc,                free_,                 to_device,    to_host,        check,        synchronize, memory_stats,
};
}  // namespace

vx_cuda_context* current() { return t_current; }
void set_current(vx_cuda_context* c) { t_current = c; }

void record(const std::string& what) {
  vx_cuda_context* c = current();
  if (c && c->error.empty()) c->error = what;
}

bool ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  cudaGetLastError();
  record(std::string(what) + ": " + cudaGetErrorString(e));
  return false;
}
bool ok(cudnnStatus_t e, const char* what) {
  if (e == CUDNN_STATUS_SUCCESS) return true;
  record(std::string(what) + ": cuDNN " + cudnnGetErrorString(e));
  return false;
}
bool ok(cublasStatus_t e, const char* what) {
  if (e == CUBLAS_STATUS_SUCCESS) return true;
  record(std::string(what) + ": cuBLAS status " + std::to_string(static_cast<int>(e)));
  return false;
}
bool launched(const char* what) { return ok(cudaGetLastError(), what); }

void* workspace(size_t bytes) {
  vx_cuda_context* c = current();
  if (bytes <= c->workspace_size) return c->workspace;
  c->arena.free(c->workspace);  // stream-ordered: only later work can reuse it
  c->workspace_size = 0;
  std::string err;
  c->workspace = c->arena.alloc(bytes, err);
  if (!c->workspace) {
    record("cuDNN workspace: " + err);
    return nullptr;
  }
  c->workspace_size = bytes;
  return c->workspace;
}

}  // namespace vx::cuda

extern "C" VX_CUDA_EXPORT const vx_cuda_api_v1* vx_cuda_backend_v1(uint32_t version) {
  return version == VX_CUDA_API_VERSION ? &vx::cuda::kApi : nullptr;
}
