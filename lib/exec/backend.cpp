#include "exec/backend.h"

namespace vx {
namespace {

class HostBackend : public ExecBackend {
 public:
  explicit HostBackend(const kern::KernelTable& kernels) : kernels_(kernels) {}
  const char* name() const override { return "cpu"; }
  const kern::KernelTable& kernels() const override { return kernels_; }
  bool host_memory() const override { return true; }
  std::shared_ptr<uint8_t> allocate(size_t bytes) override { return allocate_aligned(bytes); }
  Tensor import_input(const Tensor& host) override { return host; }
  Tensor weight(const std::string&, const Tensor& host) override { return host; }
  Tensor export_output(const Tensor& t) override { return t.clone(); }

 private:
  const kern::KernelTable& kernels_;
};

}  // namespace

std::shared_ptr<ExecBackend> host_backend(const kern::KernelTable& kernels) {
  return std::make_shared<HostBackend>(kernels);
}

}  // namespace vx
