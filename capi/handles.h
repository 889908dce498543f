// The structs behind the opaque C handles, and the registry of live handles that lets
// every entry point reject a NULL, freed or foreign pointer with a status instead of a crash.
// Internal to capi/ (and to the C++ tests of capi/, which build models in memory).
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "exec/executor.h"
#include "image/volume.h"
#include "model/model.h"
#include "voxinfer/voxinfer.h"

struct vx_model {
  std::shared_ptr<const vx::Model> model;
  std::string metadata_json;  // metadata dumped once, so the returned pointer stays valid
};

struct vx_session {
  std::shared_ptr<const vx::Model> model;  // keeps graph and weights alive
  std::unique_ptr<vx::Executor> exec;
  int threads = 0;  // OpenMP threads per run, > 0
  bool deterministic = false;
  size_t memory_limit = 0;
  vx_progress_fn progress = nullptr;
  void* progress_user = nullptr;
  vx_log_fn log = nullptr;
  void* log_user = nullptr;
  std::atomic<bool> busy{false};  // one thread at a time: a second caller gets an error
};

struct vx_tensor {
  vx::Tensor tensor;  // contiguous f32, owned
};

struct vx_volume {
  vx::Volume volume;  // data contiguous f32 [nz, ny, nx], owned; immutable once registered
};

namespace vx::capi {

enum class HandleKind { model, session, tensor, volume, exam };

void register_handle(const void* p, HandleKind kind);
// Removes a live handle; false if it was not live (double free or foreign pointer).
bool unregister_handle(const void* p, HandleKind kind);
bool is_live(const void* p, HandleKind kind);

// Throws Error(invalid_argument) naming `what` unless `h` is a live handle of this kind.
void check_handle(const void* h, HandleKind kind, const char* what);

// Wraps an already loaded model in a new C handle (used by the loader entry points and by
// tests that build a graph in memory).
vx_model* make_model_handle(std::shared_ptr<const Model> model);

}  // namespace vx::capi
