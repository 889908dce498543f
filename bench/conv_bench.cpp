// Convolution throughput of the default (fastest) kernel table on the shapes of the real
// networks (3-D U-Net levels, the ResNet-101 stem and bottleneck layers, U-Net up-sampling).
// Reports GFLOP/s and % of the machine's fp32 peak: VX_PEAK_GFLOPS (default 490, what
// bench/peak/fma_peak_bench measured on 2 cores of the build machine; rerun it and set it).
// Thread count: OMP_NUM_THREADS (default: all cores). On a shared, oversubscribed machine
// also set OMP_WAIT_POLICY=passive: libgomp's default spinning at barriers made 2-thread
// runs up to 30x slower here when other processes held the cores (measured, stem conv). Each
// convolution is prepared once (the oneDNN primitive and the packed weights, as a session's
// first run does) outside the timing; /first measures preparation plus one run.
//   ./build/bench/conv_bench --benchmark_filter=conv3d_1x32 --benchmark_repetitions=3
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu_kernels.h"
#include "kernel_table.h"
#include "ops/conv_pool.h"
#include "ops/conv_prepared.h"

using namespace vx::kern;

namespace {

struct Case {
  const char* name;
  int64_t ic, oc, in[3], k[3], s[3], p[3];
  bool transpose;
};

const Case kCases[] = {
    {"conv3d_1x32_128", 1, 32, {128, 128, 128}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, false},
    {"conv3d_32x32_64", 32, 32, {64, 64, 64}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, false},
    {"conv3d_64x64_32", 64, 64, {32, 32, 32}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, false},
    {"conv3d_128x128_16", 128, 128, {16, 16, 16}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, false},
    {"resnet_stem_1x128_16x192x192", 1, 128, {16, 192, 192}, {2, 5, 5}, {1, 3, 3}, {1, 1, 1}, false},
    {"bottleneck_1x1x1_256x64_17x64x64", 256, 64, {17, 64, 64}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, false},
    {"bottleneck_3x3x3_64x64_17x64x64", 64, 64, {17, 64, 64}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, false},
    {"bottleneck_3x3x3_s2_128x128_17x64x64", 128, 128, {17, 64, 64}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, false},
    {"bottleneck_1x1x1_1024x256_5x16x16", 1024, 256, {5, 16, 16}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, false},
    {"convT3d_k2s2_64x32_32to64", 64, 32, {32, 32, 32}, {2, 2, 2}, {2, 2, 2}, {0, 0, 0}, true},
    {"convT3d_k2s2_32x16_64to128", 32, 16, {64, 64, 64}, {2, 2, 2}, {2, 2, 2}, {0, 0, 0}, true},
    {"convT3d_k2s2_128x64_16to32", 128, 64, {16, 16, 16}, {2, 2, 2}, {2, 2, 2}, {0, 0, 0}, true},
};

ConvParams params(const Case& c) {
  ConvParams p;
  p.ic = c.ic, p.oc = c.oc;
  for (int i = 0; i < 3; ++i) {
    p.in[i] = c.in[i], p.k[i] = c.k[i], p.stride[i] = c.s[i], p.pad[i] = c.p[i];
    p.out[i] = c.transpose ? (c.in[i] - 1) * c.s[i] - 2 * c.p[i] + c.k[i] : (c.in[i] + 2 * c.p[i] - c.k[i]) / c.s[i] + 1;
  }
  return p;
}

std::vector<float> rnd(int64_t n) {
  std::mt19937 g(42);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

double peak_gflops() {
  const char* e = std::getenv("VX_PEAK_GFLOPS");
  return e ? std::atof(e) : 490.0;
}

// Prepares a convolution (weights packed into `packs`), as a session does on its first run.
using PrepareFn = std::function<std::shared_ptr<const PreparedConv>(const ConvParams&, const float* wei,
                                                                    const float* bias, WeightPacks* packs)>;

// `blocked`: every side with channels in 16s in blocked16, as between two layers of a model
// (lib/exec/layout.h); otherwise plain NCDHW, as at a graph's edges.
void run(benchmark::State& state, const Case& c, const PrepareFn& prepare, bool first_only, bool blocked = false) {
  ConvParams p = params(c);
  if (blocked) {
    p.src_layout = p.ic % 16 == 0 ? Layout::blocked16 : Layout::plain;
    p.dst_layout = p.oc % 16 == 0 ? Layout::blocked16 : Layout::plain;
  }
  const auto src = rnd(p.ic * p.in[0] * p.in[1] * p.in[2]);
  const auto wei = rnd(p.ic * p.oc * p.k[0] * p.k[1] * p.k[2]);
  const auto bias = rnd(p.oc);
  std::vector<float> dst(p.oc * p.out[0] * p.out[1] * p.out[2]);
  auto packs = std::make_unique<WeightPacks>();
  std::shared_ptr<const PreparedConv> conv;
  if (!first_only) {
    conv = prepare(p, wei.data(), bias.data(), packs.get());  // primitive and packed weights
    conv->run(src.data(), nullptr, dst.data());  // and a first run: scratch buffers touched
  }
  for (auto _ : state) {
    if (first_only) {
      state.PauseTiming();
      conv.reset();
      packs = std::make_unique<WeightPacks>();  // a new owner: nothing packed yet
      state.ResumeTiming();
      conv = prepare(p, wei.data(), bias.data(), packs.get());
    }
    conv->run(src.data(), nullptr, dst.data());
    benchmark::DoNotOptimize(dst.data());
  }
  // MACs: every (output voxel, oc) pair for a conv, every (input voxel, ic) pair for a transposed conv.
  const double macs = c.transpose ? double(p.ic) * p.oc * p.k[0] * p.k[1] * p.k[2] * p.in[0] * p.in[1] * p.in[2]
                                  : double(p.ic) * p.oc * p.k[0] * p.k[1] * p.k[2] * p.out[0] * p.out[1] * p.out[2];
  state.counters["GFLOP/s"] = benchmark::Counter(2 * macs * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["%peak"] =
      benchmark::Counter(2 * macs * state.iterations() / 1e9 / peak_gflops() * 100, benchmark::Counter::kIsRate);
  state.counters["threads"] = omp_get_max_threads();
}

// The 3-D ResNet-18 stem at 64x128x128 (conv 1 -> 64, k7 s2 p3, ReLU; max pool k3 s2 p1;
// blocked16 output): /whole stores the conv output (34 MB) then pools it, /slabs runs the pair
// in slabs (lib/ops/conv_pool.h). Counters: GFLOP/s of the convolution (the slabs recompute
// the planes two slabs share; that work is not counted) and the scratch it takes.
void run_stem_pool(benchmark::State& state, bool slabs) {
  ConvParams c;
  c.ic = 1, c.oc = 64, c.dst_layout = Layout::blocked16;
  PoolParams q;
  q.c = 64, q.layout = Layout::blocked16;
  for (int i = 0; i < 3; ++i) {
    c.in[i] = i ? 128 : 64, c.k[i] = 7, c.stride[i] = 2, c.pad[i] = 3;
    c.out[i] = (c.in[i] + 6 - 7) / 2 + 1;
    q.in[i] = c.out[i], q.k[i] = 3, q.stride[i] = 2, q.pad[i] = 1, q.out[i] = (q.in[i] + 2 - 3) / 2 + 1;
  }
  vx::ConvPoolLimits lim;
  if (!slabs) lim.whole_below = SIZE_MAX;
  const vx::ConvPoolPlan plan = vx::plan_conv_pool(c, q, lim);
  const auto src = rnd(c.in[0] * c.in[1] * c.in[2]), wei = rnd(64 * 343), bias = rnd(64);
  std::vector<float> scratch(plan.scratch_per_sample()), dst(64 * q.out[0] * q.out[1] * q.out[2]);
  ConvPostOps post;
  post.act = Unary::relu;
  const KernelTable& t = default_kernels();
  WeightPacks packs;
  vx::PreparedConvs prepared;  // as a session's node state: slab problems prepared on the first call
  auto once = [&] {
    vx::run_conv_pool(t, plan, c, post, q, src.data(), wei.data(), bias.data(), dst.data(), scratch.data(), &prepared,
                      &packs);
  };
  once();
  for (auto _ : state) {
    once();
    benchmark::DoNotOptimize(dst.data());
  }
  const double macs = 343.0 * 64 * c.out[0] * c.out[1] * c.out[2];
  state.counters["GFLOP/s"] = benchmark::Counter(2 * macs * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["scratch_MB"] = scratch.size() * sizeof(float) / 1e6;
  state.counters["threads"] = omp_get_max_threads();
}

void reg(const std::string& name, std::function<void(benchmark::State&)> fn, int iterations = 0) {
  auto* b = benchmark::RegisterBenchmark(name.c_str(), fn)->UseRealTime()->Unit(benchmark::kMillisecond);
  if (iterations) b->Iterations(iterations);
}

// Variants: /table = the default table's entry (what sessions run: the direct one-channel
// kernel where it applies, else oneDNN with the automatic layout); /onednn = oneDNN on its
// chosen layouts with edge reorders; /onednn_plain = oneDNN forced onto NCDHW; /first =
// the table's first call (primitive creation + weight reorder + run); /table_blocked16 = the
// table's entry with blocked16 on both sides (as inside a model: no reorder at all).
// Transposed: /gemm_d2s (our rewrite, the table's choice for k2s2), /gemm_d2s_blocked16 (the
// same between blocked layers), /onednn_deconv (oneDNN's deconvolution, chosen layouts).
void register_all() {
  const KernelTable& t = default_kernels();
  auto with_layout = [](cpu::ConvLayout l, const Case& c, PrepareFn fn, bool first) {
    return [l, &c, fn, first](benchmark::State& s) {
      cpu::set_conv_layout(l);
      run(s, c, fn, first);
      cpu::set_conv_layout(cpu::ConvLayout::automatic);
    };
  };
  using L = cpu::ConvLayout;
  const ConvPostOps none;
  const PrepareFn table = [&t, none](const ConvParams& p, const float* w, const float* b, WeightPacks* packs) {
    return t.prepare_conv(p, none, false, w, b, packs);
  };
  const PrepareFn onednn = [none](const ConvParams& p, const float* w, const float* b, WeightPacks* packs) {
    return cpu::prepare_conv_f32__onednn_primitive(p, none, w, b, packs);
  };
  const PrepareFn d2s = cpu::prepare_conv_transpose_f32__onednn_gemm_d2s;
  const PrepareFn deconv = cpu::prepare_conv_transpose_f32__onednn_deconv;
  for (const Case& c : kCases) {
    const std::string n = c.name;
    if (!c.transpose) {
      reg(n + "/table", with_layout(L::automatic, c, table, false));
      reg(n + "/onednn", with_layout(L::blocked, c, onednn, false));
      reg(n + "/onednn_plain", with_layout(L::plain, c, onednn, false));
      reg(n + "/first", with_layout(L::automatic, c, table, true), 2);
      reg(n + "/table_blocked16", [&c, table](benchmark::State& s) { run(s, c, table, false, true); });
    } else {
      reg(n + "/gemm_d2s", with_layout(L::blocked, c, d2s, false));
      reg(n + "/gemm_d2s_blocked16", [&c, d2s](benchmark::State& s) { run(s, c, d2s, false, true); });
      reg(n + "/onednn_deconv", with_layout(L::blocked, c, deconv, false));
      reg(n + "/onednn_deconv_plain", with_layout(L::plain, c, deconv, false));
    }
  }
  reg("resnet18_stem_pool_64x128x128/whole", [](benchmark::State& s) { run_stem_pool(s, false); });
  reg("resnet18_stem_pool_64x128x128/slabs", [](benchmark::State& s) { run_stem_pool(s, true); });
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
