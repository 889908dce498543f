// Grad-CAM time vs forward time on a small 3-D ResNet (stem + 3 residual stages, BN, GAP,
// Gemm), input 1x1x16x64x64. Target: Grad-CAM <= 1.3x forward (the backward pass only runs
// from the last stage to the logit). Reports the ratio as a counter.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <random>

#include "exec/executor.h"
#include "explain/gradcam.h"

using namespace vx;

namespace {
struct Builder {
  Graph g;
  std::mt19937 rng{7};
  int n = 0;
  std::string w(const Shape& s, float scale, float offset = 0.f) {
    std::normal_distribution<float> d(0.f, 1.f);
    Tensor t = Tensor::empty(s);
    for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = offset + scale * d(rng);
    const std::string name = "w" + std::to_string(g.weights.size());
    g.weights[name] = t;
    return name;
  }
  std::string node(const std::string& op, std::vector<std::string> in, Attrs a = {}) {
    const std::string name = op + std::to_string(++n);
    g.nodes.push_back({name, op, std::move(in), {name}, std::move(a)});
    return name;
  }
  std::string conv_bn(const std::string& x, int64_t ci, int64_t co, int64_t k, int64_t stride, bool relu) {
    Attrs a;
    a.set_ints("strides", {stride, stride, stride});
    a.set_ints("pads", std::vector<int64_t>(6, k / 2));
    std::string y = node("Conv", {x, w({co, ci, k, k, k}, 1.f / std::sqrt(float(ci * k * k * k)))}, a);
    Attrs b;
    b.set_float("epsilon", 1e-5);
    y = node("BatchNormalization", {y, w({co}, 0.1f, 1.f), w({co}, 0.1f), w({co}, 0.1f), w({co}, 0.f, 1.f)}, b);
    return relu ? node("Relu", {y}) : y;
  }
  std::string block(const std::string& x, int64_t ci, int64_t co, int64_t stride) {
    std::string y = conv_bn(conv_bn(x, ci, co, 3, stride, true), co, co, 3, 1, false);
    std::string s = ci == co && stride == 1 ? x : conv_bn(x, ci, co, 1, stride, false);
    return node("Relu", {node("Add", {y, s})});
  }
};

std::shared_ptr<Model> resnet3d() {
  Builder b;
  b.g.inputs.push_back({"x", Shape{1, 1, 16, 64, 64}});
  std::string y = b.conv_bn("x", 1, 8, 3, 2, true);
  y = b.block(y, 8, 8, 1);
  y = b.block(y, 8, 16, 2);
  y = b.block(y, 16, 32, 2);
  Attrs f, gm;
  f.set_int("axis", 1);
  gm.set_int("transB", 1);
  y = b.node("Flatten", {b.node("GlobalAveragePool", {y})}, f);
  y = b.node("Gemm", {y, b.w({2, 32}, 0.2f)}, gm);
  b.g.outputs = {y};
  auto m = std::make_shared<Model>();
  m->order = b.g.topological_order();
  m->graph = std::make_shared<Graph>(std::move(b.g));
  return m;
}

Tensor input() {
  Tensor x = Tensor::empty({1, 1, 16, 64, 64});
  for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = static_cast<float>((i * 37) % 101) / 50.f - 1.f;
  return x;
}

void BM_forward(benchmark::State& st) {
  auto m = resnet3d();
  Executor ex(m->graph, kern::default_kernels());
  Tensor x = input();
  ex.run({x});
  for (auto _ : st) benchmark::DoNotOptimize(ex.run({x}));
}

void BM_gradcam(benchmark::State& st) {
  auto m = resnet3d();
  Tensor x = input();
  Executor ex(m->graph, kern::default_kernels());
  ex.run({x});
  // Forward time measured in the same process for the ratio.
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) ex.run({x});
  const double fwd = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 3;
  double total = 0;
  int64_t n = 0;
  for (auto _ : st) {
    auto s = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(explain::grad_cam(*m, {x}));
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - s).count();
    ++n;
  }
  st.counters["forward_ms"] = fwd * 1e3;
  st.counters["ratio_vs_forward"] = n ? total / n / fwd : 0;
}
}  // namespace

BENCHMARK(BM_forward)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_gradcam)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK_MAIN();
