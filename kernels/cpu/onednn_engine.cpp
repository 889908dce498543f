// The oneDNN engine (with the ISA cap), per-thread scratch buffers, and the process-wide
// choice of convolution layouts (a setting for benchmarks and tests, not a cache).
#include <atomic>
#include <cstdlib>
#include <new>

#include "cpu/onednn_common.h"

namespace vx::kern::cpu {

namespace {
std::atomic<int> g_layout{static_cast<int>(ConvLayout::automatic)};
}

void set_conv_layout(ConvLayout layout) { g_layout.store(static_cast<int>(layout)); }
ConvLayout conv_layout() { return static_cast<ConvLayout>(g_layout.load()); }

namespace onednn {

dnnl::engine& engine() {
  static dnnl::engine e = [] {
    // Cap oneDNN's own JIT at VX_MAX_ISA so a capped run is capped everywhere. Fails
    // harmlessly when someone else already used oneDNN in this process.
    try {
      if (max_isa() == Isa::scalar) dnnl::set_max_cpu_isa(dnnl::cpu_isa::sse41);
      else if (max_isa() == Isa::avx2) dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx2);
    } catch (const dnnl::error&) {
    }
    return dnnl::engine(dnnl::engine::kind::cpu, 0);
  }();
  return e;
}

namespace {
struct Scratch {
  void* ptr = nullptr;
  size_t bytes = 0;
  ~Scratch() { std::free(ptr); }
  void* get(size_t want) {
    if (want > bytes) {
      std::free(ptr);
      ptr = nullptr;
      bytes = 0;
      const size_t rounded = (want + 63) / 64 * 64;
      ptr = std::aligned_alloc(64, rounded);
      if (!ptr) throw std::bad_alloc();
      bytes = rounded;
    }
    return ptr;
  }
};
thread_local Scratch t_scratch[4];
}  // namespace

void* thread_scratch(ScratchUse use, size_t bytes) { return t_scratch[static_cast<int>(use)].get(bytes); }

// ConvLayout::automatic, from bench/conv_bench (1 thread, CPU time, AVX-512): pointwise
// convs and one-channel inputs are a single GEMM on NCDHW (2x faster than brgconv plus
// the reorders); everything else is 1.3-2.6x faster on oneDNN's own layouts.
bool use_blocked(const ConvParams& p, bool transpose) {
  const ConvLayout l = conv_layout();
  if (l != ConvLayout::automatic) return l == ConvLayout::blocked;
  if (transpose) return true;
  const bool pointwise = p.k[0] * p.k[1] * p.k[2] == 1 && p.stride[0] * p.stride[1] * p.stride[2] == 1 &&
                         p.pad[0] + p.pad[1] + p.pad[2] == 0;
  return !(pointwise || p.ic / p.groups == 1);
}

}  // namespace onednn
}  // namespace vx::kern::cpu
