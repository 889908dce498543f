// Every fast kernel against the reference kernel of the same table entry, for every kernel
// table this machine can run. A table the CPU lacks (AVX-512) is reported as a skip
// (tests/common/skip.h: CTest shows Skipped); VX_MAX_ISA capping it on purpose is not a skip,
// which is how the CTest entry kernels.cpu_kernels_test.avx2 checks the baseline table alone.
// Tolerances, with inputs uniform in [-1, 1] unless noted:
//   exact (bitwise):   relu/leaky_relu/identity, binary add/sub/mul/div, channel_affine,
//                      nearest resize, max pooling (same operations in the same order)
//   |d| <= 1e-6 + 1e-6|ref|:  sigmoid/tanh/softmax (our exp is ~2 ulp), linear resize
//   |d| <= 1e-5 + 1e-5|ref|:  average pooling (vector summation order)
//   |d| <= 1e-4 + 1e-4|ref|:  conv, transposed conv, linear (oneDNN/GEMM summation order,
//                      reductions of up to ~1000 terms)
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/layouts.h"
#include "common/skip.h"
#include "common/random_data.h"
#include "cpu/cpu_kernels.h"
#include "kernel_table.h"

using namespace vx::kern;

namespace {

std::vector<float> rnd(int64_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  return vx::test::uniform_floats(n, seed, lo, hi);
}

// True when VX_MAX_ISA caps this run below AVX-512 on purpose (kernels.cpu_kernels_test.avx2):
// a missing AVX-512 table is then the run's choice, not a skip.
bool capped_below_avx512() {
  const char* cap = std::getenv("VX_MAX_ISA");
  return cap && (std::strcmp(cap, "scalar") == 0 || std::strcmp(cap, "avx2") == 0);
}

// Fast tables only (ref is the oracle); reports once what this machine cannot check.
std::vector<const KernelTable*> fast_tables() {
  static bool printed = false;
  if (!printed) {
    printed = true;
    MESSAGE("detected ISA: " << std::string(cpu::isa_name(cpu::detected_isa())) << ", capped to "
                             << std::string(cpu::isa_name(cpu::max_isa())));
    MESSAGE("ISA avx2 has no kernels of its own: table 'cpu' covers it");  // information, not a skip
    if (!cpu::cpu_kernels(cpu::Isa::avx512)) {
      if (capped_below_avx512()) MESSAGE("table cpu-avx512 not checked: capped on purpose by VX_MAX_ISA");
      else vx::test::skip("table cpu-avx512: this CPU has no AVX-512 (or the OS does not save its state)");
    }
  }
  std::vector<const KernelTable*> t;
  for (const KernelTable* k : kernel_tables())
    if (k != &ref_kernels()) t.push_back(k);
  return t;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double atol, double rtol,
                  const std::string& what) {
  REQUIRE(got.size() == want.size());
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(d <= atol + rtol * std::fabs(want[i]))) {
      if (!bad) first = i;
      ++bad;
    }
  }
  INFO(what << ": " << bad << " of " << got.size() << " outside tolerance; first at " << first << ": got "
            << (bad ? got[first] : 0.f) << " want " << (bad ? want[first] : 0.f));
  CHECK(bad == 0);
}

void expect_exact(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  REQUIRE(got.size() == want.size());
  INFO(what);
  CHECK(std::memcmp(got.data(), want.data(), got.size() * 4) == 0);
}

ConvParams conv_p(int64_t n, int64_t ic, int64_t oc, std::array<int64_t, 3> in, std::array<int64_t, 3> k,
                  std::array<int64_t, 3> s, std::array<int64_t, 3> pad, std::array<int64_t, 3> dil = {1, 1, 1},
                  int64_t groups = 1, bool transpose = false, std::array<int64_t, 3> out_pad = {0, 0, 0}) {
  ConvParams p;
  p.n = n, p.ic = ic, p.oc = oc, p.groups = groups;
  for (int i = 0; i < 3; ++i) {
    p.in[i] = in[i], p.k[i] = k[i], p.stride[i] = s[i], p.pad[i] = pad[i], p.dil[i] = dil[i];
    const int64_t span = dil[i] * (k[i] - 1) + 1;
    p.out[i] = transpose ? (in[i] - 1) * s[i] - 2 * pad[i] + span + out_pad[i] : (in[i] + 2 * pad[i] - span) / s[i] + 1;
  }
  return p;
}

int64_t out_count(const ConvParams& p) { return p.n * p.oc * p.out[0] * p.out[1] * p.out[2]; }
int64_t wei_count(const ConvParams& p, bool transpose) {
  return (transpose ? p.ic * (p.oc / p.groups) : p.oc * (p.ic / p.groups)) * p.k[0] * p.k[1] * p.k[2];
}

std::vector<ConvParams> conv_cases() {
  return {
      conv_p(1, 1, 32, {9, 10, 11}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}),   // first U-Net layer, awkward extents
      conv_p(2, 1, 12, {5, 7, 37}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}),    // direct 1-channel kernel: x tail, oc tail
      conv_p(1, 1, 9, {6, 9, 40}, {2, 5, 3}, {2, 3, 1}, {1, 2, 0}),     // direct 1-channel kernel: strides in z/y
      conv_p(2, 5, 7, {5, 6, 7}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}),      // odd channels, stride 2
      conv_p(1, 16, 16, {4, 9, 9}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}),    // bottleneck 1x1x1
      conv_p(1, 1, 8, {6, 20, 20}, {2, 5, 5}, {1, 3, 3}, {1, 1, 1}),    // ResNet-101 stem shape
      conv_p(1, 8, 12, {7, 7, 7}, {3, 3, 3}, {1, 1, 1}, {2, 2, 2}, {2, 2, 2}),  // dilation
      conv_p(1, 8, 12, {5, 6, 7}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, 4),  // groups
      conv_p(2, 3, 17, {1, 13, 15}, {1, 3, 3}, {1, 1, 1}, {0, 1, 1}),   // 2-D as depth 1
      conv_p(1, 6, 4, {5, 5, 5}, {3, 3, 3}, {2, 2, 2}, {0, 0, 0}),      // no padding, stride 2, odd input
  };
}

}  // namespace

TEST_CASE("conv: every fast table matches the reference, every oneDNN layout policy") {
  uint32_t seed = 1;
  for (cpu::ConvLayout layout : {cpu::ConvLayout::automatic, cpu::ConvLayout::plain, cpu::ConvLayout::blocked})
  for (const KernelTable* t : fast_tables())
    for (const ConvParams& p : conv_cases())
      for (bool with_bias : {true, false}) {
        const auto src = rnd(p.n * p.ic * p.in[0] * p.in[1] * p.in[2], seed++);
        const auto wei = rnd(wei_count(p, false), seed++);
        const auto bias = rnd(p.oc, seed++);
        std::vector<float> want(out_count(p)), got(out_count(p), 123.f);
        ref_kernels().conv(p, src.data(), wei.data(), with_bias ? bias.data() : nullptr, want.data());
        cpu::set_conv_layout(layout);
        t->conv(p, src.data(), wei.data(), with_bias ? bias.data() : nullptr, got.data());
        cpu::set_conv_layout(cpu::ConvLayout::automatic);
        expect_close(got, want, 1e-4, 1e-4,
                     std::string(t->name) + " conv ic=" + std::to_string(p.ic) + " layout " +
                         std::to_string(static_cast<int>(layout)));
      }
}

TEST_CASE("conv_transpose: every fast table matches the reference (GEMM+d2s and oneDNN paths)") {
  const std::vector<std::pair<ConvParams, const char*>> cases = {
      {conv_p(1, 16, 8, {5, 6, 7}, {2, 2, 2}, {2, 2, 2}, {0, 0, 0}, {1, 1, 1}, 1, true), "k2s2 (gemm_d2s)"},
      {conv_p(2, 3, 5, {3, 4, 5}, {2, 2, 2}, {2, 2, 2}, {0, 0, 0}, {1, 1, 1}, 1, true), "k2s2 batch 2"},
      {conv_p(1, 8, 6, {1, 9, 11}, {1, 2, 2}, {1, 2, 2}, {0, 0, 0}, {1, 1, 1}, 1, true), "2-D k2s2"},
      {conv_p(1, 6, 4, {4, 5, 6}, {3, 3, 3}, {1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 1, true), "k3 s1 p0 (denoiser)"},
      {conv_p(1, 6, 4, {4, 5, 6}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, 1, true, {1, 1, 1}), "k3 s2 p1 outpad1"},
      {conv_p(1, 8, 4, {3, 4, 5}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, 2, true), "groups 2"},
  };
  uint32_t seed = 100;
  for (const KernelTable* t : fast_tables())
    for (const auto& c : cases) {
      const ConvParams& p = c.first;
      const auto src = rnd(p.n * p.ic * p.in[0] * p.in[1] * p.in[2], seed++);
      const auto wei = rnd(wei_count(p, true), seed++);
      const auto bias = rnd(p.oc, seed++);
      std::vector<float> want(out_count(p)), got(out_count(p), 123.f), deconv(out_count(p), 123.f);
      ref_kernels().conv_transpose(p, src.data(), wei.data(), bias.data(), want.data());
      t->conv_transpose(p, src.data(), wei.data(), bias.data(), got.data());
      expect_close(got, want, 1e-4, 1e-4, std::string(t->name) + " conv_transpose " + c.second);
      cpu::conv_transpose_f32__onednn_deconv(p, src.data(), wei.data(), bias.data(), deconv.data());
      expect_close(deconv, want, 1e-4, 1e-4, std::string("onednn_deconv ") + c.second);
    }
}

TEST_CASE("conv_fused: activation and residual post-ops match the composed reference") {
  for (const ConvParams& p : {conv_p(1, 6, 10, {5, 7, 6}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}),
                              conv_p(1, 1, 10, {4, 5, 33}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1})}) {
  const auto src = rnd(p.n * p.ic * p.in[0] * p.in[1] * p.in[2], 7);
  const auto wei = rnd(wei_count(p, false), 8);
  const auto bias = rnd(p.oc, 9);
  const auto res = rnd(out_count(p), 10);
  for (const KernelTable* t : fast_tables())
    for (Unary act : {Unary::identity, Unary::relu, Unary::leaky_relu, Unary::sigmoid, Unary::tanh})
      for (bool residual : {false, true}) {
        ConvPostOps post;
        post.act = act, post.alpha = 0.1f, post.has_residual = residual;
        std::vector<float> want(out_count(p)), got(out_count(p), 123.f);
        run_conv_fused(ref_kernels(), p, post, src.data(), wei.data(), bias.data(), residual ? res.data() : nullptr,
                       want.data());
        run_conv_fused(*t, p, post, src.data(), wei.data(), bias.data(), residual ? res.data() : nullptr, got.data());
        expect_close(got, want, 1e-4, 1e-4,
                     std::string(t->name) + " fused act=" + std::to_string(static_cast<int>(act)) +
                         (residual ? " +residual" : "") + " ic=" + std::to_string(p.ic));
      }
  }
}

TEST_CASE("unary: every op, awkward counts") {
  for (const KernelTable* t : fast_tables())
    for (int64_t n : {1, 15, 17, 1000, 70001}) {
      const auto src = rnd(n, static_cast<uint32_t>(n), -12.f, 12.f);
      for (Unary op : {Unary::identity, Unary::relu, Unary::leaky_relu, Unary::sigmoid, Unary::tanh}) {
        std::vector<float> want(n), got(n, 123.f);
        ref_kernels().unary(op, 0.2f, n, src.data(), want.data());
        t->unary(op, 0.2f, n, src.data(), got.data());
        const std::string what = std::string(t->name) + " unary " + std::to_string(static_cast<int>(op)) +
                                 " n=" + std::to_string(n);
        if (op == Unary::sigmoid || op == Unary::tanh) expect_close(got, want, 1e-6, 1e-6, what);
        else expect_exact(got, want, what);
      }
    }
}

TEST_CASE("binary: broadcasts of the attention gate, per-channel and scalar kinds") {
  struct Case {
    std::array<int64_t, 5> a, b;
  };
  const std::vector<Case> cases = {
      {{2, 3, 4, 5, 7}, {2, 3, 4, 5, 7}},  // same shape
      {{2, 3, 4, 5, 7}, {1, 3, 1, 1, 1}},  // per channel
      {{2, 5, 3, 4, 9}, {2, 1, 3, 4, 9}},  // attention gate: broadcast over channels
      {{1, 1, 1, 1, 1}, {2, 3, 4, 5, 17}}, // scalar a
      {{2, 3, 1, 5, 1}, {1, 3, 4, 1, 6}},  // both broadcast
      {{1, 1, 1, 1, 33}, {1, 1, 1, 19, 1}},
  };
  uint32_t seed = 50;
  for (const KernelTable* t : fast_tables())
    for (const auto& c : cases)
      for (Binary op : {Binary::add, Binary::sub, Binary::mul, Binary::div}) {
        BroadcastParams p;
        int64_t na = 1, nb = 1;
        int64_t acc_a = 1, acc_b = 1;
        for (int i = 4; i >= 0; --i) {
          p.out[i] = std::max(c.a[i], c.b[i]);
          p.a_stride[i] = c.a[i] == 1 ? 0 : acc_a;
          p.b_stride[i] = c.b[i] == 1 ? 0 : acc_b;
          acc_a *= c.a[i], acc_b *= c.b[i];
        }
        na = acc_a, nb = acc_b;
        const auto a = rnd(na, seed++), b = rnd(nb, seed++, 0.5f, 2.f);
        const int64_t n = p.out[0] * p.out[1] * p.out[2] * p.out[3] * p.out[4];
        std::vector<float> want(n), got(n, 123.f);
        ref_kernels().binary(op, p, a.data(), b.data(), want.data());
        t->binary(op, p, a.data(), b.data(), got.data());
        expect_exact(got, want, std::string(t->name) + " binary " + std::to_string(static_cast<int>(op)));
      }
}

TEST_CASE("channel_affine and softmax") {
  for (const KernelTable* t : fast_tables()) {
    // {64, 49, 1}, {3, 300, 1}: the last-axis path (a Swin window's attention rows; a tail)
    for (auto dims : {std::array<int64_t, 3>{2, 3, 17}, {1, 5, 1}, {3, 7, 100}, {1, 64, 4096}, {64, 49, 1}, {3, 300, 1}}) {
      const int64_t n = dims[0] * dims[1] * dims[2];
      const auto src = rnd(n, 3, -5.f, 5.f), scale = rnd(dims[1], 4), shift = rnd(dims[1], 5);
      std::vector<float> want(n), got(n, 123.f);
      ref_kernels().channel_affine(dims[0], dims[1], dims[2], scale.data(), shift.data(), src.data(), want.data());
      t->channel_affine(dims[0], dims[1], dims[2], scale.data(), shift.data(), src.data(), got.data());
      expect_exact(got, want, std::string(t->name) + " channel_affine");
      ref_kernels().softmax(dims[0], dims[1], dims[2], src.data(), want.data());
      t->softmax(dims[0], dims[1], dims[2], src.data(), got.data());
      expect_close(got, want, 1e-6, 1e-6, std::string(t->name) + " softmax c=" + std::to_string(dims[1]));
    }
  }
}

TEST_CASE("resize: nearest and trilinear, sizes and scale factors, align_corners both ways") {
  uint32_t seed = 70;
  for (const KernelTable* t : fast_tables())
    for (ResizeMode mode : {ResizeMode::nearest, ResizeMode::linear})
      for (bool ac : {false, true})
        for (auto io : {std::array<int64_t, 6>{5, 7, 9, 10, 13, 31}, {20, 19, 23, 16, 16, 17}, {1, 4, 6, 1, 9, 3}}) {
          ResizeParams p;
          p.n = 2, p.c = 3, p.mode = mode, p.align_corners = ac && mode == ResizeMode::linear;
          for (int i = 0; i < 3; ++i) p.in[i] = io[i], p.out[i] = io[3 + i], p.ratio[i] = double(io[i]) / io[3 + i];
          const auto src = rnd(p.n * p.c * p.in[0] * p.in[1] * p.in[2], seed++);
          const int64_t n = p.n * p.c * p.out[0] * p.out[1] * p.out[2];
          std::vector<float> want(n), got(n, 123.f);
          ref_kernels().resize(p, src.data(), want.data());
          t->resize(p, src.data(), got.data());
          const std::string what = std::string(t->name) + (mode == ResizeMode::nearest ? " nearest" : " linear") +
                                   (p.align_corners ? " ac" : "");
          if (mode == ResizeMode::nearest) expect_exact(got, want, what);
          else expect_close(got, want, 1e-6, 1e-6, what);
        }
}

TEST_CASE("adaptive pooling: global and windowed, max and average") {
  uint32_t seed = 90;
  for (const KernelTable* t : fast_tables())
    for (PoolKind kind : {PoolKind::max, PoolKind::avg})
      for (auto io : {std::array<int64_t, 6>{3, 8, 8, 1, 1, 1}, {5, 48, 48, 1, 1, 1}, {7, 9, 37, 3, 4, 5}, {2, 1, 1, 1, 1, 1}}) {
        AdaptivePoolParams p;
        p.n = 2, p.c = 5, p.kind = kind;
        for (int i = 0; i < 3; ++i) p.in[i] = io[i], p.out[i] = io[3 + i];
        const auto src = rnd(p.n * p.c * p.in[0] * p.in[1] * p.in[2], seed++);
        const int64_t n = p.n * p.c * p.out[0] * p.out[1] * p.out[2];
        std::vector<float> want(n), got(n, 123.f);
        ref_kernels().adaptive_pool(p, src.data(), want.data());
        t->adaptive_pool(p, src.data(), got.data());
        const std::string what = std::string(t->name) + (kind == PoolKind::max ? " adaptive max" : " adaptive avg");
        if (kind == PoolKind::max) expect_exact(got, want, what);
        else expect_close(got, want, 1e-5, 1e-5, what);
      }
}

TEST_CASE("linear") {
  for (const KernelTable* t : fast_tables())
    for (auto mkn : {std::array<int64_t, 3>{1, 4096, 512}, {3, 17, 5}, {2, 512, 2}}) {
      const auto x = rnd(mkn[0] * mkn[1], 1), w = rnd(mkn[2] * mkn[1], 2), b = rnd(mkn[2], 3);
      std::vector<float> want(mkn[0] * mkn[2]), got(mkn[0] * mkn[2], 123.f);
      ref_kernels().linear(mkn[0], mkn[1], mkn[2], x.data(), w.data(), b.data(), want.data());
      t->linear(mkn[0], mkn[1], mkn[2], x.data(), w.data(), b.data(), got.data());
      expect_close(got, want, 1e-4, 1e-4, std::string(t->name) + " linear");
    }
}

TEST_CASE("one-shot conv entries: concurrent callers from several threads get correct results") {
  const ConvParams p = conv_p(1, 8, 8, {6, 7, 8}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1});
  const auto src = rnd(p.ic * p.in[0] * p.in[1] * p.in[2], 31);
  std::vector<std::vector<float>> weis, wants;
  for (uint32_t i = 0; i < 4; ++i) {
    weis.push_back(rnd(wei_count(p, false), 40 + i));
    wants.emplace_back(out_count(p));
    ref_kernels().conv(p, src.data(), weis.back().data(), nullptr, wants.back().data());
  }
  const int64_t alive = packed_weights_alive();
  std::vector<std::vector<float>> got(8, std::vector<float>(out_count(p)));
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      for (int rep = 0; rep < 5; ++rep)
        cpu::route_conv_cpu_once(p, src.data(), weis[i % 4].data(), nullptr, got[i].data());
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) expect_close(got[i], wants[i % 4], 1e-4, 1e-4, "thread " + std::to_string(i));
  CHECK(packed_weights_alive() == alive);  // a one-shot call keeps nothing
}

// ---- blocked16 layouts (tables with a `reorder` entry). The oracle is the reference kernel on
// plain data, moved into the blocked layout by this test's own index formula.
namespace {

using vx::test::to_layout;

int64_t sp_in(const ConvParams& p) { return p.in[0] * p.in[1] * p.in[2]; }
int64_t sp_out(const ConvParams& p) { return p.out[0] * p.out[1] * p.out[2]; }
const char* lname(Layout l) { return l == Layout::plain ? "plain" : "blocked16"; }

}  // namespace

TEST_CASE("blocked16: reorder, pooling, conv, fused conv and transposed conv match the reference") {
  int tables = 0;
  uint32_t seed = 500;
  for (const KernelTable* t : fast_tables()) {
    if (!t->reorder) continue;
    ++tables;
    // Reorder both ways against the formula, exactly.
    const int64_t n = 2, c = 32, sp = 5 * 6 * 7;
    const auto v = rnd(n * c * sp, seed++);
    std::vector<float> b(v.size()), back(v.size());
    t->reorder(n, c, sp, Layout::plain, Layout::blocked16, v.data(), b.data());
    expect_exact(b, to_layout(v, n, c, sp, Layout::blocked16), std::string(t->name) + " reorder to blocked16");
    t->reorder(n, c, sp, Layout::blocked16, Layout::plain, b.data(), back.data());
    expect_exact(back, v, std::string(t->name) + " reorder back to plain");

    for (PoolKind kind : {PoolKind::max, PoolKind::avg}) {
      PoolParams p;
      p.n = 2, p.c = 32, p.kind = kind, p.count_include_pad = kind == PoolKind::avg;
      const int64_t in[3] = {5, 9, 8}, k[3] = {2, 3, 3}, s[3] = {2, 2, 2}, pad[3] = {0, 1, 1};
      for (int i = 0; i < 3; ++i)
        p.in[i] = in[i], p.k[i] = k[i], p.stride[i] = s[i], p.pad[i] = pad[i], p.out[i] = (in[i] + 2 * pad[i] - k[i]) / s[i] + 1;
      const int64_t isp = p.in[0] * p.in[1] * p.in[2], osp = p.out[0] * p.out[1] * p.out[2];
      const auto src = rnd(p.n * p.c * isp, seed++);
      std::vector<float> want(p.n * p.c * osp), got(want.size(), 123.f);
      ref_kernels().pool(p, src.data(), want.data());
      p.layout = Layout::blocked16;
      t->pool(p, to_layout(src, p.n, p.c, isp, Layout::blocked16).data(), got.data());
      expect_exact(got, to_layout(want, p.n, p.c, osp, Layout::blocked16),
                   std::string(t->name) + (kind == PoolKind::max ? " blocked max pool" : " blocked avg pool"));
    }

    const std::vector<std::pair<ConvParams, const char*>> convs = {
        {conv_p(1, 16, 32, {5, 6, 7}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}), "3x3x3"},
        {conv_p(2, 32, 16, {4, 5, 6}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}), "pointwise, batch 2"},
        {conv_p(1, 32, 32, {5, 7, 9}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}), "stride 2"},
        {conv_p(1, 16, 16, {1, 9, 11}, {1, 3, 3}, {1, 1, 1}, {0, 1, 1}), "2-D"},
        {conv_p(1, 1, 16, {6, 7, 20}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}), "one input channel"},
    };
    for (const auto& c2 : convs)
      for (Layout sl : {Layout::plain, Layout::blocked16})
        for (Layout dl : {Layout::plain, Layout::blocked16}) {
          ConvParams p = c2.first;
          if (sl == Layout::blocked16 && p.ic % 16) continue;
          const auto src = rnd(p.n * p.ic * sp_in(p), seed++), wei = rnd(wei_count(p, false), seed++);
          const auto bias = rnd(p.oc, seed++), res = rnd(out_count(p), seed++);
          ConvPostOps post;
          post.act = Unary::relu, post.has_residual = true;
          std::vector<float> want(out_count(p)), got(out_count(p), 123.f);
          run_conv_fused(ref_kernels(), p, post, src.data(), wei.data(), bias.data(), res.data(), want.data());
          p.src_layout = sl, p.dst_layout = dl;
          run_conv_fused(*t, p, post, to_layout(src, p.n, p.ic, sp_in(p), sl).data(), wei.data(), bias.data(),
                         to_layout(res, p.n, p.oc, sp_out(p), dl).data(), got.data());
          expect_close(got, to_layout(want, p.n, p.oc, sp_out(p), dl), 1e-4, 1e-4,
                       std::string(t->name) + " conv " + c2.second + " " + lname(sl) + " -> " + lname(dl));
        }

    {  // a pointwise few-class head from blocked16 to plain (its own GEMM path)
      ConvParams p = conv_p(2, 32, 3, {4, 5, 6}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0});
      const auto src = rnd(p.n * p.ic * sp_in(p), seed++), wei = rnd(wei_count(p, false), seed++);
      const auto bias = rnd(p.oc, seed++);
      for (Unary act : {Unary::identity, Unary::relu, Unary::sigmoid}) {
        ConvPostOps post;
        post.act = act;
        std::vector<float> want(out_count(p)), got(out_count(p), 123.f);
        run_conv_fused(ref_kernels(), p, post, src.data(), wei.data(), bias.data(), nullptr, want.data());
        ConvParams q = p;
        q.src_layout = Layout::blocked16;
        run_conv_fused(*t, q, post, to_layout(src, p.n, p.ic, sp_in(p), Layout::blocked16).data(), wei.data(),
                       bias.data(), nullptr, got.data());
        expect_close(got, want, 1e-5, 1e-5, std::string(t->name) + " pointwise head blocked16 -> plain");
      }
    }

    const std::vector<std::pair<ConvParams, const char*>> ups = {
        {conv_p(1, 32, 16, {3, 4, 5}, {2, 2, 2}, {2, 2, 2}, {0, 0, 0}, {1, 1, 1}, 1, true), "k2s2 (gemm_d2s)"},
        {conv_p(2, 16, 32, {1, 5, 6}, {1, 2, 2}, {1, 2, 2}, {0, 0, 0}, {1, 1, 1}, 1, true), "2-D k2s2, batch 2"},
        {conv_p(1, 16, 16, {3, 4, 5}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, 1, true, {1, 1, 1}), "k3 s2 (deconv)"},
    };
    for (const auto& u : ups)
      for (Layout sl : {Layout::plain, Layout::blocked16})
        for (Layout dl : {Layout::plain, Layout::blocked16}) {
          ConvParams p = u.first;
          const auto src = rnd(p.n * p.ic * sp_in(p), seed++), wei = rnd(wei_count(p, true), seed++);
          const auto bias = rnd(p.oc, seed++);
          std::vector<float> want(out_count(p)), got(out_count(p), 123.f);
          ref_kernels().conv_transpose(p, src.data(), wei.data(), bias.data(), want.data());
          p.src_layout = sl, p.dst_layout = dl;
          t->conv_transpose(p, to_layout(src, p.n, p.ic, sp_in(p), sl).data(), wei.data(), bias.data(), got.data());
          expect_close(got, to_layout(want, p.n, p.oc, sp_out(p), dl), 1e-4, 1e-4,
                       std::string(t->name) + " conv_transpose " + u.second + " " + lname(sl) + " -> " + lname(dl));
        }
  }
  if (!tables) vx::test::skip("no kernel table with blocked layouts on this machine");
}

// Our AVX-512 pointwise kernel (conv_pointwise_avx512.cpp) called directly on small shapes
// (voxel tails, a partial group of output blocks, batch 2, every post-op), and through the table
// above its 8 MiB threshold, where the table must route to it. Oracle: the reference fused conv
// on plain data, moved to blocked16 by the test's formula. Tolerance 1e-4 (summation order).
TEST_CASE("pointwise AVX-512 kernel: blocked16 1x1x1 convolutions match the reference") {
  if (!cpu::cpu_kernels(cpu::Isa::avx512)) {
    if (capped_below_avx512()) MESSAGE("pointwise AVX-512 kernel not checked: capped on purpose by VX_MAX_ISA");
    else vx::test::skip("pointwise AVX-512 kernel: no AVX-512 on this CPU");
    return;
  }
  uint32_t seed = 700;
  struct Shape5 {
    int64_t n, ic, oc, d, h, w;
  };
  for (const Shape5 s : {Shape5{2, 16, 16, 1, 1, 13}, Shape5{1, 48, 80, 3, 5, 7}, Shape5{2, 32, 64, 2, 3, 4}})
    for (Unary act : {Unary::identity, Unary::relu, Unary::leaky_relu, Unary::sigmoid, Unary::tanh})
      for (bool with_res : {false, true}) {
        ConvParams p = conv_p(s.n, s.ic, s.oc, {s.d, s.h, s.w}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0});
        const auto src = rnd(p.n * p.ic * sp_in(p), seed++), wei = rnd(wei_count(p, false), seed++);
        const auto bias = rnd(p.oc, seed++), res = rnd(out_count(p), seed++);
        ConvPostOps post;
        post.act = act, post.alpha = 0.1f, post.has_residual = with_res;
        std::vector<float> want(out_count(p)), got(out_count(p), 123.f);
        run_conv_fused(ref_kernels(), p, post, src.data(), wei.data(), bias.data(), with_res ? res.data() : nullptr,
                       want.data());
        p.src_layout = p.dst_layout = Layout::blocked16;
        const auto res_b = to_layout(res, p.n, p.oc, sp_out(p), Layout::blocked16);
        cpu::conv_fused_f32__avx512_pointwise(p, post, to_layout(src, p.n, p.ic, sp_in(p), Layout::blocked16).data(),
                                              wei.data(), bias.data(), with_res ? res_b.data() : nullptr, got.data());
        expect_close(got, to_layout(want, p.n, p.oc, sp_out(p), Layout::blocked16), 1e-4, 1e-4,
                     "pointwise " + std::to_string(s.ic) + " -> " + std::to_string(s.oc) + " act " +
                         std::to_string(static_cast<int>(act)) + (with_res ? " + residual" : ""));
      }
  // 32 -> 80 over 17x61x67 voxels (8.9 MB in): the table takes this kernel, bit for bit.
  ConvParams p = conv_p(1, 32, 80, {17, 61, 67}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0});
  p.src_layout = p.dst_layout = Layout::blocked16;
  REQUIRE(cpu::conv_pointwise_applies(p));
  const auto src = rnd(p.ic * sp_in(p), seed++), wei = rnd(wei_count(p, false), seed++), bias = rnd(p.oc, seed++);
  ConvPostOps post;
  post.act = Unary::relu;
  std::vector<float> direct(out_count(p)), table(out_count(p), 123.f), want(out_count(p));
  cpu::conv_fused_f32__avx512_pointwise(p, post, src.data(), wei.data(), bias.data(), nullptr, direct.data());
  run_conv_fused(*cpu::cpu_kernels(cpu::Isa::avx512), p, post, src.data(), wei.data(), bias.data(), nullptr, table.data());
  expect_exact(table, direct, "the table routes a large pointwise conv to the AVX-512 kernel");
  ConvParams plain = p;
  plain.src_layout = plain.dst_layout = Layout::plain;
  std::vector<float> plain_src(src.size());  // the blocked src back to plain, by the formula's inverse
  const auto idx = to_layout([&] { std::vector<float> v(src.size()); for (size_t i = 0; i < v.size(); ++i) v[i] = float(i); return v; }(),
                             1, p.ic, sp_in(p), Layout::blocked16);
  for (size_t i = 0; i < idx.size(); ++i) plain_src[static_cast<size_t>(idx[i])] = src[i];
  run_conv_fused(ref_kernels(), plain, post, plain_src.data(), wei.data(), bias.data(), nullptr, want.data());
  expect_close(direct, to_layout(want, 1, p.oc, sp_out(p), Layout::blocked16), 1e-4, 1e-4, "pointwise 32 -> 80, 69479 voxels");
  ConvParams small = p;
  small.in[0] = small.out[0] = 1;  // 16 KB of input: oneDNN's kernel keeps it
  CHECK_FALSE(cpu::conv_pointwise_applies(small));
}
