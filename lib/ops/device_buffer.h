// Helpers for ops whose kernel table works on device memory (KernelTable::memory != NULL):
// small host-side computations (BatchNorm folding, Gemm's weight rearrangement) download
// their parameters, compute on the host once and keep the result in device memory.
#pragma once
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "kernel_table.h"

namespace vx {

// Owns `count` floats of device memory; freed with the OpState that holds it.
class DeviceBuffer {
 public:
  DeviceBuffer(const kern::DeviceMemory& mem, const std::vector<float>& host) : mem_(mem) {
    if (host.empty()) return;
    ptr_ = static_cast<float*>(mem_.alloc(host.size() * sizeof(float)));
    require(ptr_ != nullptr, Status::out_of_memory, "device allocation failed");
    mem_.to_device(ptr_, host.data(), host.size() * sizeof(float));
  }
  ~DeviceBuffer() { mem_.free(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  const float* get() const { return ptr_; }

 private:
  const kern::DeviceMemory& mem_;
  float* ptr_ = nullptr;
};

// A contiguous device tensor's values on the host.
inline std::vector<float> download(const kern::DeviceMemory& mem, const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  if (!v.empty()) mem.to_host(v.data(), t.f32(), v.size() * sizeof(float));
  return v;
}

}  // namespace vx
