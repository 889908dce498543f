// Where an executor's tensors live. The host backend is the executor's behaviour before
// backends existed: arena and weights in host memory, inputs used in place. A device
// backend (lib/backend/cuda_backend.cpp) keeps the arena and the weights on the device and
// moves only graph inputs in and graph outputs out.
//
// Ops never see this interface: they see the backend's KernelTable, whose `copy` and
// `memory` entries are non-NULL exactly when tensor data is not host-addressable (the ops
// that would touch data on the host then route through them: Concat, Slice, BatchNorm's
// folded coefficients, Gemm's rearranged weight; view ops are aliases and copy nothing).
#pragma once
#include <memory>
#include <string>

#include "core/tensor.h"
#include "kernel_table.h"

namespace vx {

class ExecBackend {
 public:
  virtual ~ExecBackend() = default;
  virtual const char* name() const = 0;
  virtual const kern::KernelTable& kernels() const = 0;
  // True when kernels read and write host memory (tensors may be dereferenced on the host).
  virtual bool host_memory() const = 0;
  // `bytes` of kernel-addressable memory (the activation arena, device-side outputs).
  virtual std::shared_ptr<uint8_t> allocate(size_t bytes) = 0;
  // A graph input (host, contiguous) as the kernels see it; valid until the run ends.
  virtual Tensor import_input(const Tensor& host) = 0;
  // A weight as the kernels see it; a device backend uploads it once and caches it.
  virtual Tensor weight(const std::string& name, const Tensor& host) = 0;
  // A fresh host tensor holding `t` (a graph output).
  virtual Tensor export_output(const Tensor& t) = 0;
  // Called around a run and after each node; a device backend binds its stream in
  // begin_run and turns an asynchronous kernel failure into an Error in check / end_run.
  virtual void begin_run() {}
  virtual void check() {}
  virtual void end_run() {}
};

// Today's behaviour: everything in host memory, run by `kernels` (which must outlive it).
std::shared_ptr<ExecBackend> host_backend(const kern::KernelTable& kernels);

}  // namespace vx
