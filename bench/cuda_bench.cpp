// CUDA backend benchmarks at the published sizes: time per volume and device memory.
//   - the 3-D U-Net denoiser (A2), input [1, 1, 20, 192, 192]
//   - the dual-encoder 3-D ResNet-101 (A3)
// Models come from .vxm files converted by weights/convert.py:
//   VOXINFER_BENCH_DENOISER=/path/denoiser.vxm VOXINFER_BENCH_DUAL=/path/dual.vxm ./cuda_bench
// Without them a random-weight 3-D U-Net of the denoiser's depth and channel widths is built
// here (no .vxm needed). Builds everywhere (it reaches CUDA only through the loader); without
// a module, driver or device every benchmark reports "skipped: <reason>".
// Counters: ms per volume (wall, includes the host->device input and device->host output
// copies), arena MiB reserved/peak on the device, and for the CPU baseline the same graph.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "backend/cuda_loader.h"
#include "exec/executor.h"
#include "model/model.h"

using namespace vx;

namespace {

struct Built {
  std::shared_ptr<const Graph> graph;
  Shape input;
};

// Random-weight 3-D U-Net: 4 levels, channels 32-64-128-256-512 (the denoiser's widths).
Built random_unet() {
  auto g = std::make_shared<Graph>();
  std::mt19937 rng(1);
  int id = 0;
  auto rnd = [&](const Shape& s, float scale) {
    Tensor t = Tensor::empty(s);
    std::uniform_real_distribution<float> d(-scale, scale);
    for (int64_t i = 0; i < s.numel(); ++i) t.f32()[i] = d(rng);
    return t;
  };
  auto add = [&](const std::string& op, std::vector<std::string> in, Attrs a = {}) {
    Node n;
    n.name = op + std::to_string(id++);
    n.op = op;
    n.inputs = std::move(in);
    n.outputs = {n.name};
    n.attrs = a;
    g->nodes.push_back(n);
    return n.name;
  };
  auto conv = [&](const std::string& x, int64_t ic, int64_t oc, int64_t k) {
    const std::string w = "w" + std::to_string(id), b = "b" + std::to_string(id);
    g->weights[w] = rnd(Shape{oc, ic, k, k, k}, 1.f / std::sqrt(float(ic * k * k * k)));
    g->weights[b] = rnd(Shape{oc}, 0.1f);
    Attrs a;
    a.set_ints("pads", {k / 2, k / 2, k / 2, k / 2, k / 2, k / 2});
    return add("Relu", {add("Conv", {x, w, b}, a)});
  };
  g->inputs.push_back({"x", Shape{1, 1, -1, -1, -1}});
  const int64_t ch[5] = {32, 64, 128, 256, 512};
  std::vector<std::string> skips;
  std::string x = "x";
  int64_t c = 1;
  for (int l = 0; l < 5; ++l) {
    if (l) {
      Attrs a;
      a.set_ints("kernel_shape", {1, 2, 2});
      a.set_ints("strides", {1, 2, 2});
      x = add("MaxPool", {x}, a);
    }
    x = conv(conv(x, c, ch[l], 3), ch[l], ch[l], 3);
    c = ch[l];
    skips.push_back(x);
  }
  for (int l = 3; l >= 0; --l) {
    const std::string w = "up" + std::to_string(id);
    g->weights[w] = rnd(Shape{c, ch[l], 1, 2, 2}, 1.f / std::sqrt(float(c * 4)));
    Attrs a;
    a.set_ints("strides", {1, 2, 2});
    Attrs cat;
    cat.set_int("axis", 1);
    x = add("Concat", {add("ConvTranspose", {x, w}, a), skips[l]}, cat);
    x = conv(conv(x, 2 * ch[l], ch[l], 3), ch[l], ch[l], 3);
    c = ch[l];
  }
  const std::string w = "head", b = "head.b";
  g->weights[w] = rnd(Shape{1, c, 1, 1, 1}, 0.1f);
  g->weights[b] = rnd(Shape{1}, 0.1f);
  g->outputs.push_back(add("Conv", {x, w, b}));
  return {g, Shape{1, 1, 20, 192, 192}};
}

Built from_vxm(const char* path, const Shape& input) {
  return {Model::load_file(path)->graph, input};
}

void run(benchmark::State& state, const Built& b, bool cuda) {
  std::shared_ptr<ExecBackend> be;
  if (cuda) {
    try {
      be = backend::make_cuda_backend(backend::cuda_device_from_env());
    } catch (const Error& e) {
      state.SkipWithError((std::string("skipped: ") + e.what()).c_str());
      return;
    }
  }
  Executor ex = cuda ? Executor(b.graph, be) : Executor(b.graph, kern::default_kernels());
  // Every graph input gets the benchmark's shape (the dual encoder's two sequences alike).
  std::vector<Tensor> x(b.graph->inputs.size(), Tensor::zeros(b.input));
  ex.run(x);  // warm-up: uploads weights, plans convolutions
  for (auto _ : state) benchmark::DoNotOptimize(ex.run(x));
  state.counters["ms_per_volume"] =
      benchmark::Counter(state.iterations() * 1e-3, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  if (cuda) {
    size_t reserved = 0, peak = 0;
    backend::cuda_backend_memory(*be, &reserved, &peak);
    state.counters["device_MiB_reserved"] = double(reserved) / (1 << 20);
    state.counters["device_MiB_peak"] = double(peak) / (1 << 20);
  }
  state.counters["arena_MiB_planned"] = double(ex.plan().arena_bytes) / (1 << 20);
}

void BM_denoiser_cuda(benchmark::State& state) {
  const char* p = std::getenv("VOXINFER_BENCH_DENOISER");
  static const Built b = p ? from_vxm(p, Shape{1, 1, 20, 192, 192}) : random_unet();
  run(state, b, true);
}
// The CPU baseline takes minutes per volume on small machines: opt in with VOXINFER_BENCH_CPU=1.
void BM_denoiser_cpu(benchmark::State& state) {
  if (!std::getenv("VOXINFER_BENCH_CPU")) {
    state.SkipWithError("skipped: set VOXINFER_BENCH_CPU=1 for the CPU baseline");
    return;
  }
  const char* p = std::getenv("VOXINFER_BENCH_DENOISER");
  static const Built b = p ? from_vxm(p, Shape{1, 1, 20, 192, 192}) : random_unet();
  run(state, b, false);
}
void BM_dual_resnet101_cuda(benchmark::State& state) {
  const char* p = std::getenv("VOXINFER_BENCH_DUAL");
  if (!p) {
    state.SkipWithError("skipped: set VOXINFER_BENCH_DUAL to the dual-encoder .vxm (weights/convert.py)");
    return;
  }
  // Input shape: VOXINFER_BENCH_DUAL_SHAPE="N,C,D,H,W" (default 1,2,32,224,224 -- check the model's metadata).
  Shape s{1, 2, 32, 224, 224};
  if (const char* e = std::getenv("VOXINFER_BENCH_DUAL_SHAPE"))
  {
    long long v[5] = {1, 2, 32, 224, 224};
    if (std::sscanf(e, "%lld,%lld,%lld,%lld,%lld", &v[0], &v[1], &v[2], &v[3], &v[4]) == 5)
      s = Shape{v[0], v[1], v[2], v[3], v[4]};
  }
  static const Built b = from_vxm(p, s);
  run(state, b, true);
}

}  // namespace

BENCHMARK(BM_denoiser_cuda)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_denoiser_cpu)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_dual_resnet101_cuda)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK_MAIN();
