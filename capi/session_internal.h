// Session internals shared by the C entry points that run a session (session_capi.cpp,
// gradcam_capi.cpp): the one-thread-at-a-time guard, the OpenMP thread cap, input checks.
#pragma once
#include <omp.h>

#include <string>
#include <vector>

#include "capi/guard.h"
#include "capi/handles.h"
#include "core/error.h"

namespace vx::capi {

// Marks a session busy for the duration of a call; a concurrent caller gets an error
// instead of corrupting the executor.
class BusyGuard {
 public:
  explicit BusyGuard(vx_session* s) : s_(s) {
    bool expected = false;
    if (!s_->busy.compare_exchange_strong(expected, true))
      throw BusyError("the session is in use by another thread (one session runs on one thread at a time)");
  }
  ~BusyGuard() { s_->busy.store(false); }
  BusyGuard(const BusyGuard&) = delete;
  BusyGuard& operator=(const BusyGuard&) = delete;

 private:
  vx_session* s_;
};

// Caps OpenMP threads on this thread; restores the previous cap on exit.
class ThreadCap {
 public:
  explicit ThreadCap(int threads) : previous_(omp_get_max_threads()) { omp_set_num_threads(threads); }
  ~ThreadCap() { omp_set_num_threads(previous_); }
  ThreadCap(const ThreadCap&) = delete;
  ThreadCap& operator=(const ThreadCap&) = delete;

 private:
  int previous_;
};

// Validates the run inputs' shape arrays against the model and returns them (model-input order).
std::vector<vx::Shape> input_shapes(const vx_session* s, size_t num_inputs, const int64_t* const* shapes,
                                    const int32_t* ranks);

}  // namespace vx::capi
