// 8 sessions on 8 threads sharing one model, all through the public C API: every run must
// give bit for bit what a single-threaded run gives. Small on purpose so it also runs under
// ThreadSanitizer (scripts/test.sh stage 3 builds every tests/*/*concurren*_test.cpp with
// -fsanitize=thread): the model is a .vxm written in memory and loaded with
// vx_model_load_memory, and the model handle is freed while the sessions still run, so
// the shared graph and weights are reached only through the sessions' references.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "model/vxm_writer.h"
#include "voxinfer/voxinfer.h"

namespace {

constexpr int kThreads = 8;
constexpr int kRuns = 3;
constexpr int64_t kSide = 8;

// input [1, 2, 8, 8, 8] -> Conv 3x3x3 (4 ch, pad 1) -> Relu -> Conv 1x1x1 (2 ch) -> output
std::vector<uint8_t> model_bytes() {
  vx::Graph g;
  g.inputs.push_back({"image", vx::Shape{1, 2, kSide, kSide, kSide}});
  uint32_t seed = 777;
  auto fill = [&seed](vx::Tensor& t, float scale) {
    for (int64_t i = 0; i < t.numel(); ++i) {
      seed = seed * 1664525u + 1013904223u;
      t.f32()[i] = (static_cast<float>((seed >> 8) & 0xffff) / 65536.0f - 0.5f) * scale;
    }
  };
  vx::Tensor w0 = vx::Tensor::empty(vx::Shape{4, 2, 3, 3, 3}), b0 = vx::Tensor::empty(vx::Shape{4});
  vx::Tensor w1 = vx::Tensor::empty(vx::Shape{2, 4, 1, 1, 1}), b1 = vx::Tensor::empty(vx::Shape{2});
  fill(w0, 0.5f), fill(b0, 0.1f), fill(w1, 1.0f), fill(b1, 0.1f);
  g.weights = {{"w0", w0}, {"b0", b0}, {"w1", w1}, {"b1", b1}};
  vx::Node c0{"conv0", "Conv", {"image", "w0", "b0"}, {"c0"}, {}};
  c0.attrs.set_ints("pads", {1, 1, 1, 1, 1, 1});
  g.nodes.push_back(c0);
  g.nodes.push_back({"relu0", "Relu", {"c0"}, {"r0"}, {}});
  g.nodes.push_back({"conv1", "Conv", {"r0", "w1", "b1"}, {"out"}, {}});
  g.outputs.push_back("out");
  return vx::write_vxm(g, {{"name", "concurrency"}});
}

struct Run {
  std::vector<float> input;
  int64_t shape[5] = {1, 2, kSide, kSide, kSide};
  int32_t rank = 5;
  size_t out_numel = static_cast<size_t>(2 * kSide * kSide * kSide);
  Run() : input(static_cast<size_t>(2 * kSide * kSide * kSide)) {
    for (size_t i = 0; i < input.size(); ++i) input[i] = std::sin(0.37f * static_cast<float>(i));
  }
  vx_status operator()(vx_session* s, std::vector<float>& out) const {
    out.assign(out_numel, -7.f);
    const float* in = input.data();
    const int64_t* sh = shape;
    float* o = out.data();
    size_t cap = out_numel;
    return vx_session_run_into(s, 1, &in, &sh, &rank, 1, &o, &cap);
  }
};

vx_session_options options(int deterministic) {
  vx_session_options o;
  CHECK(vx_session_options_init(&o) == VX_OK);
  o.threads = 1;  // the concurrency under test is ours, not OpenMP's
  o.deterministic = deterministic;
  return o;
}

}  // namespace

TEST_CASE("8 sessions on 8 threads sharing one model match single-threaded runs") {
  const std::vector<uint8_t> bytes = model_bytes();
  vx_model* model = nullptr;
  REQUIRE_MESSAGE(vx_model_load_memory(bytes.data(), bytes.size(), nullptr, &model) == VX_OK, vx_last_error());
  const Run run;

  // Single-threaded references, one per kernel choice (reference and fast kernels may differ
  // in the last bits, each must agree with itself).
  std::vector<float> ref[2];
  for (int det = 0; det < 2; ++det) {
    const vx_session_options o = options(det);
    vx_session* s = nullptr;
    REQUIRE(vx_session_create(model, &o, &s) == VX_OK);
    REQUIRE(run(s, ref[det]) == VX_OK);
    CHECK(vx_session_free(s) == VX_OK);
  }
  bool nonzero = false;
  for (float v : ref[1]) nonzero = nonzero || v != 0.f;
  REQUIRE(nonzero);  // a model that outputs only zeros would make the comparison vacuous

  std::vector<std::vector<float>> results(kThreads);
  std::vector<vx_status> statuses(kThreads, VX_ERR_INTERNAL);
  std::vector<int> mismatches(kThreads, 0);
  std::atomic<int> created{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const vx_session_options o = options(i % 2);
      vx_session* s = nullptr;
      statuses[i] = vx_session_create(model, &o, &s);
      created++;  // counted whether or not creation worked, so no thread waits forever
      while (!go.load()) std::this_thread::yield();
      for (int r = 0; r < kRuns && statuses[i] == VX_OK; ++r) {
        std::vector<float> out;
        statuses[i] = run(s, out);
        if (r == 0) results[i] = out;
        else if (out != results[i]) ++mismatches[i];
      }
      if (vx_session_free(s) != VX_OK) ++mismatches[i];  // checked below, on the main thread
    });
  }
  while (created.load() < kThreads) std::this_thread::yield();
  CHECK(vx_model_free(model) == VX_OK);  // sessions keep the graph alive
  go = true;
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    CAPTURE(i);
    CHECK(statuses[i] == VX_OK);
    CHECK(mismatches[i] == 0);
    CHECK(results[i] == ref[i % 2]);
  }
}
