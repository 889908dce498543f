// Sessions of one model on several threads prepare their convolutions at the same time from
// the model's WeightPacks: each key is packed once (under the owner's lock) and every run
// gives bit for bit what a lone session gives. Small on purpose: scripts/test.sh also runs
// every tests/*/*concurren*_test.cpp under ThreadSanitizer.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "common/float_compare.h"
#include "common/graph_nodes.h"
#include "common/random_data.h"
#include "exec/executor.h"
#include "kernel_table.h"

using namespace vx;

namespace {

Tensor random_tensor(const Shape& s, uint32_t seed) {
  Tensor t = Tensor::empty(s);
  const auto v = test::uniform_floats(s.numel(), seed, -0.3f, 0.3f);
  std::memcpy(t.f32(), v.data(), v.size() * sizeof(float));
  return t;
}

// x [1,16,6,6,6] -> Conv 3x3x3 16->16 -> Relu -> Conv 3x3x3 16->16 -> y
std::shared_ptr<const Graph> graph() {
  auto g = std::make_shared<Graph>();
  g->inputs.push_back({"x", Shape{1, 16, 6, 6, 6}});
  g->weights["w0"] = random_tensor(Shape{16, 16, 3, 3, 3}, 1);
  g->weights["w1"] = random_tensor(Shape{16, 16, 3, 3, 3}, 2);
  Node c0 = test::node("conv0", "Conv", {"x", "w0"}, {"c0"});
  Node c1 = test::node("conv1", "Conv", {"r0", "w1"}, {"y"});
  c0.attrs.set_ints("pads", {1, 1, 1, 1, 1, 1});
  c1.attrs.set_ints("pads", {1, 1, 1, 1, 1, 1});
  g->nodes = {c0, test::node("relu0", "Relu", {"c0"}, {"r0"}), c1};
  g->outputs = {"y"};
  return g;
}

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.f32(), t.f32() + t.numel()); }

}  // namespace

TEST_CASE("sessions of one model on four threads share its packed weights, packed once, same results") {
  const auto g = graph();
  const Tensor x = random_tensor(Shape{1, 16, 6, 6, 6}, 3);
  // What a lone session gives, on a thread of its own (the same OpenMP default as the others).
  std::vector<float> want;
  std::thread([&] { want = values(Executor(g, kern::default_kernels()).run({x})[0]); }).join();
  auto packs = std::make_shared<kern::WeightPacks>();
  constexpr int kThreads = 4;
  std::vector<std::vector<float>> got(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      Executor ex(g, kern::default_kernels(), {}, packs);
      for (int run = 0; run < 3; ++run) got[i] = values(ex.run({x})[0]);
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) CHECK(test::same_bits(got[i], want));
  if (kern::default_kernels().prepare_conv) CHECK(packs->packs_made() == 2);  // one per Conv, all sessions together
}
