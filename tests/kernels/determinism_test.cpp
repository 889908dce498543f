// Run-to-run and cross-thread-count reproducibility of every kernel table.
//  - At a fixed thread count every kernel must be bit-identical run to run (asserted).
//  - Across thread counts (1 vs 2 vs 3 threads): asserted for our own kernels, whose
//    parallel loops split independent outputs only, and for the reference table. For oneDNN
//    convolutions and GEMMs it is asserted when VX_DETERMINISTIC=1 (the engine's switch,
//    kernels/cpu/isa.h: fast kernels bit-identical across thread counts) and otherwise only
//    reported in MESSAGEs.
// CTest runs this test twice (tests/CMakeLists.txt, tests/README.md "Determinism"):
// kernels.determinism_test with VX_DETERMINISTIC=1, so CI asserts the fast kernels' promise,
// and kernels.determinism_test.default_mode with VX_DETERMINISTIC=0.
#include <doctest/doctest.h>
#include <omp.h>

#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu_kernels.h"
#include "kernel_table.h"

using namespace vx::kern;

namespace {

std::vector<float> rnd(int64_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

// Runs `fn` at each thread count; true when all results are bitwise equal.
bool same_across_threads(const std::function<std::vector<float>()>& fn) {
  const int saved = omp_get_max_threads();
  std::vector<float> first;
  bool same = true;
  for (int t : {1, 2, 3}) {
    omp_set_num_threads(t);
    const auto r = fn();
    if (first.empty()) first = r;
    else same = same && std::memcmp(first.data(), r.data(), r.size() * 4) == 0;
  }
  omp_set_num_threads(saved);
  return same;
}

ConvParams conv_p(int64_t ic, int64_t oc, int64_t ext, int64_t k, int64_t s, int64_t pad) {
  ConvParams p;
  p.ic = ic, p.oc = oc;
  for (int i = 0; i < 3; ++i) {
    p.in[i] = ext, p.k[i] = k, p.stride[i] = s, p.pad[i] = pad;
    p.out[i] = (ext + 2 * pad - k) / s + 1;
  }
  return p;
}

}  // namespace

TEST_CASE("conv and transposed conv: run-to-run identical; across thread counts as reported") {
  const bool strict = cpu::deterministic();
  for (const KernelTable* t : kernel_tables()) {
    for (const ConvParams& p : {conv_p(1, 32, 24, 3, 1, 1), conv_p(64, 64, 12, 3, 1, 1), conv_p(256, 64, 10, 1, 1, 0),
                                conv_p(32, 32, 13, 3, 2, 1)}) {
      const auto src = rnd(p.ic * p.in[0] * p.in[1] * p.in[2], 1), wei = rnd(p.oc * p.ic * p.k[0] * p.k[1] * p.k[2], 2);
      auto fn = [&] {
        std::vector<float> d(p.oc * p.out[0] * p.out[1] * p.out[2]);
        t->conv(p, src.data(), wei.data(), nullptr, d.data());
        return d;
      };
      const auto a = fn(), b = fn();
      CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
      const bool same = same_across_threads(fn);
      MESSAGE(std::string(t->name) << " conv ic=" << p.ic << " oc=" << p.oc << " k=" << p.k[0] << " s=" << p.stride[0]
                      << ": identical across 1/2/3 threads: " << std::string(same ? "yes" : "NO"));
      if (strict || t == &ref_kernels()) CHECK(same);
    }
    ConvParams q;
    q.ic = 64, q.oc = 32;
    for (int i = 0; i < 3; ++i) q.in[i] = 11, q.k[i] = q.stride[i] = 2, q.out[i] = 22;
    const auto src = rnd(q.ic * 11 * 11 * 11, 3), wei = rnd(q.ic * q.oc * 8, 4);
    auto fn = [&] {
      std::vector<float> d(q.oc * 22 * 22 * 22);
      t->conv_transpose(q, src.data(), wei.data(), nullptr, d.data());
      return d;
    };
    const auto a = fn(), b = fn();
    CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
    const bool same = same_across_threads(fn);
    MESSAGE(std::string(t->name) << " conv_transpose k2s2: identical across 1/2/3 threads: " << std::string(same ? "yes" : "NO"));
    if (strict || t == &ref_kernels()) CHECK(same);
  }
}

TEST_CASE("own kernels and linear: identical across thread counts") {
  const bool strict = cpu::deterministic();
  const int64_t n = 2, c = 7, inner = 9 * 33 * 35;
  const auto src = rnd(n * c * inner, 5), other = rnd(n * c * inner, 6), scale = rnd(c, 7);
  for (const KernelTable* t : kernel_tables()) {
    INFO(std::string(t->name));
    CHECK(same_across_threads([&] {
      std::vector<float> d(src.size());
      t->unary(Unary::sigmoid, 0.f, d.size(), src.data(), d.data());
      return d;
    }));
    CHECK(same_across_threads([&] {
      std::vector<float> d(src.size());
      t->softmax(n, c, inner, src.data(), d.data());
      return d;
    }));
    CHECK(same_across_threads([&] {
      BroadcastParams p;
      p.out[0] = n, p.out[1] = c, p.out[4] = inner;
      p.a_stride[0] = c * inner, p.a_stride[1] = inner, p.a_stride[4] = 1;
      p.b_stride[0] = c * inner, p.b_stride[1] = inner, p.b_stride[4] = 1;
      std::vector<float> d(src.size());
      t->binary(Binary::mul, p, src.data(), other.data(), d.data());
      return d;
    }));
    CHECK(same_across_threads([&] {
      AdaptivePoolParams p;
      p.n = n, p.c = c, p.in[0] = 9, p.in[1] = 33, p.in[2] = 35, p.kind = PoolKind::avg;
      std::vector<float> d(n * c);
      t->adaptive_pool(p, src.data(), d.data());
      return d;
    }));
    CHECK(same_across_threads([&] {
      ResizeParams p;
      p.n = n, p.c = c, p.in[0] = 9, p.in[1] = 33, p.in[2] = 35, p.out[0] = 13, p.out[1] = 40, p.out[2] = 41;
      p.mode = ResizeMode::linear, p.align_corners = true;
      std::vector<float> d(n * c * 13 * 40 * 41);
      t->resize(p, src.data(), d.data());
      return d;
    }));
    const auto w = rnd(300 * 2048, 8);
    const bool lin = same_across_threads([&] {
      std::vector<float> d(4 * 300);
      t->linear(4, 2048, 300, src.data(), w.data(), nullptr, d.data());
      return d;
    });
    MESSAGE(std::string(t->name) << " linear: identical across 1/2/3 threads: " << std::string(lin ? "yes" : "NO"));
    if (strict || t == &ref_kernels()) CHECK(lin);
  }
}
