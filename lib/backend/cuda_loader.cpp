#include "backend/cuda_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <map>
#include <mutex>

#include "backend/module_loader.h"
#include "cuda/cuda_api.h"

namespace vx::backend {
namespace {

constexpr const char* kModule = "libvoxinfer_cuda.so";

const vx_cuda_api_v1* load() {
  void* h = open_module(kModule, "VOXINFER_CUDA_LIBRARY", Status::backend_unavailable,
                        std::string("backend 'cuda' is not available: the CUDA module ") + kModule +
                            " could not be loaded (this build may lack CUDA, or cudart/cuDNN/cuBLAS are missing; "
                            "set VOXINFER_CUDA_LIBRARY to its path).");
  auto entry = reinterpret_cast<vx_cuda_backend_v1_fn>(dlsym(h, VX_CUDA_ENTRY_POINT));
  if (!entry)
    fail(Status::backend_unavailable, std::string("backend 'cuda' is not available: ") + kModule + " has no " +
                                          VX_CUDA_ENTRY_POINT + " entry point");
  const vx_cuda_api_v1* api = entry(VX_CUDA_API_VERSION);
  if (!api || api->version != VX_CUDA_API_VERSION || api->struct_size < sizeof(vx_cuda_api_v1))
    fail(Status::backend_unavailable, std::string("backend 'cuda' is not available: ") + kModule +
                                          " does not serve API version " + std::to_string(VX_CUDA_API_VERSION) +
                                          " (module and library from different builds?)");
  return api;
}

class CudaBackend : public ExecBackend {
 public:
  CudaBackend(const vx_cuda_api_v1& api, int device) : api_(api) {
    char err[512] = {};
    vx_cuda_context* raw = nullptr;
    if (api_.context_create(device, &raw, err, sizeof err))
      fail(Status::backend_unavailable, std::string("backend 'cuda' is not available: ") + err);
    const vx_cuda_api_v1* a = &api_;
    ctx_ = std::shared_ptr<vx_cuda_context>(raw, [a](vx_cuda_context* c) { a->context_free(c); });
    char desc[256] = {};
    api_.describe(raw, desc, sizeof desc);
    description_ = desc;
  }

  const char* name() const override { return "cuda"; }
  const kern::KernelTable& kernels() const override { return *api_.kernels(ctx_.get()); }
  bool host_memory() const override { return false; }

  // Each allocation keeps the context (and so the arena) alive.
  std::shared_ptr<uint8_t> allocate(size_t bytes) override {
    char err[512] = {};
    void* p = api_.alloc(ctx_.get(), bytes, err, sizeof err);
    if (!p) fail(Status::out_of_memory, std::string("cuda: ") + err);
    const vx_cuda_api_v1* a = &api_;
    std::shared_ptr<vx_cuda_context> ctx = ctx_;
    return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(p), [a, ctx](uint8_t* q) { a->free(ctx.get(), q); });
  }

  Tensor import_input(const Tensor& host) override {
    Tensor t = Tensor::wrap_shared(allocate(host.nbytes()), 0, host.shape(), host.dtype());
    status(api_.to_device(ctx_.get(), t.raw(), host.raw(), host.nbytes(), err_, sizeof err_), "copy input");
    return t;
  }

  // Uploaded on first use; the graph's weights never change while a session lives.
  Tensor weight(const std::string& name, const Tensor& host) override {
    auto it = weights_.find(name);
    if (it != weights_.end() && it->second.first == host.raw()) return it->second.second;
    Tensor src = host.is_contiguous() ? host : host.clone();
    Tensor t = Tensor::wrap_shared(allocate(src.nbytes()), 0, src.shape(), src.dtype());
    status(api_.to_device(ctx_.get(), t.raw(), src.raw(), src.nbytes(), err_, sizeof err_), "upload weight");
    weights_[name] = {host.raw(), t};
    return t;
  }

  Tensor export_output(const Tensor& t) override {
    Tensor host = Tensor::empty(t.shape(), t.dtype());
    status(api_.to_host(ctx_.get(), host.raw(), t.raw(), t.nbytes(), err_, sizeof err_), "copy output");
    return host;
  }

  void begin_run() override {
    if (api_.bind(ctx_.get(), err_, sizeof err_)) fail(Status::backend_unavailable, std::string("cuda: ") + err_);
  }
  void check() override { status(api_.check(ctx_.get(), err_, sizeof err_), "kernel"); }
  void end_run() override { status(api_.synchronize(ctx_.get(), err_, sizeof err_), "run"); }

  std::string description() const { return description_; }
  void memory(size_t* reserved, size_t* peak) const { api_.memory_stats(ctx_.get(), reserved, nullptr, peak); }

 private:
  void status(int rc, const char* what) {
    if (!rc) return;
    const std::string msg = err_;
    fail(msg.find("out of device memory") != std::string::npos ? Status::out_of_memory : Status::internal,
         std::string("cuda ") + what + ": " + msg);
  }

  const vx_cuda_api_v1& api_;
  std::shared_ptr<vx_cuda_context> ctx_;
  std::string description_;
  std::map<std::string, std::pair<const void*, Tensor>> weights_;
  char err_[512] = {};
};

}  // namespace

const vx_cuda_api_v1& cuda_api() {
  static std::mutex m;
  static const vx_cuda_api_v1* api = nullptr;
  std::lock_guard<std::mutex> lock(m);
  if (!api) api = load();  // a failure is retried next time (the module may be installed later)
  return *api;
}

int cuda_device_from_env() {
  const char* e = std::getenv("VOXINFER_CUDA_DEVICE");
  if (!e || !*e) return 0;
  char* end = nullptr;
  const long v = std::strtol(e, &end, 10);
  if (*end || v < 0 || v > 1024)
    fail(Status::invalid_argument, std::string("VOXINFER_CUDA_DEVICE='") + e + "' is not a device index (0, 1, ...)");
  return static_cast<int>(v);
}

std::shared_ptr<ExecBackend> make_cuda_backend(int device) { return std::make_shared<CudaBackend>(cuda_api(), device); }

std::string cuda_backend_description(const ExecBackend& backend) {
  auto* b = dynamic_cast<const CudaBackend*>(&backend);
  return b ? b->description() : "";
}

void cuda_backend_memory(const ExecBackend& backend, size_t* reserved, size_t* peak) {
  *reserved = *peak = 0;
  if (auto* b = dynamic_cast<const CudaBackend*>(&backend)) b->memory(reserved, peak);
}

}  // namespace vx::backend
