// Recycled output buffers (lib/exec/output_pool.h): a released output's memory serves the next
// run, and memory the caller still holds is never written.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <thread>

#include "../common/graph_nodes.h"
#include "../common/random_data.h"
#include "exec/executor.h"
#include "exec/output_pool.h"

using namespace vx;

TEST_CASE("pool: a released buffer of the same size is reused; others are not") {
  auto pool = std::make_shared<OutputPool>(2);
  const size_t big = OutputPool::kPooledFrom * 3;
  auto a = pool->take(big);
  uint8_t* pa = a.get();
  a.reset();
  CHECK(pool->pooled() == 1);
  auto b = pool->take(big);
  CHECK(b.get() == pa);
  CHECK(pool->pooled() == 0);
  b.reset();
  auto c = pool->take(big + 4096);  // larger: never the smaller buffer waiting
  CHECK(c.get() != pa);
  CHECK(pool->pooled() == 1);
  b = pool->take(big);
  CHECK(b.get() == pa);
  auto small = pool->take(1000);  // small buffers are not pooled
  small.reset();
  CHECK(pool->pooled() == 0);
  // At most two waiting: the oldest goes first.
  auto d = pool->take(big * 2);
  b.reset();
  c.reset();
  d.reset();
  CHECK(pool->pooled() == 2);
  CHECK(pool->take(big).get() != pa);
}

TEST_CASE("pool: buffers released after the pool is gone, or on another thread, are freed") {
  auto pool = std::make_shared<OutputPool>(1);
  auto a = pool->take(OutputPool::kPooledFrom);
  std::memset(a.get(), 1, OutputPool::kPooledFrom);  // ASan: the whole buffer is ours
  auto b = pool->take(OutputPool::kPooledFrom);
  std::thread([&b] { b.reset(); }).join();
  CHECK(pool->pooled() == 1);
  pool.reset();
  a.reset();  // after the pool: plain free (ASan/LSan report a leak or a bad free otherwise)
}

namespace {

// out = Relu(x) on 1 x 2 x 64^3 (2 MiB: pooled).
std::shared_ptr<Graph> relu_graph() {
  auto g = std::make_shared<Graph>();
  g->inputs.push_back({"x", Shape{1, 2, 64, 64, 64}});
  g->nodes.push_back(test::node("out", "Relu", {"x"}, {"out"}));
  g->outputs = {"out"};
  return g;
}

Tensor input(uint32_t seed) {
  Tensor x = Tensor::empty(Shape{1, 2, 64, 64, 64});
  auto v = test::uniform_floats(x.numel(), seed);
  std::memcpy(x.f32(), v.data(), v.size() * sizeof(float));
  return x;
}

bool is_relu_of(const Tensor& y, const Tensor& x) {
  for (int64_t i = 0; i < x.numel(); ++i)
    if (y.f32()[i] != std::fmax(x.f32()[i], 0.f)) return false;
  return true;
}

}  // namespace

TEST_CASE("executor: released outputs are written again; held outputs keep their values") {
  Executor ex(relu_graph(), kern::ref_kernels());
  const Tensor x1 = input(1), x2 = input(2), x3 = input(3);
  std::vector<Tensor> held = ex.run({x1});
  const float* first = held[0].f32();
  // Held by the caller: the next run must not write there.
  std::vector<Tensor> second = ex.run({x2});
  CHECK(second[0].f32() != first);
  CHECK(is_relu_of(held[0], x1));
  CHECK(is_relu_of(second[0], x2));
  // Released by the caller (the executor let go of it when the second run began): reused.
  const float* released = held[0].f32();
  held.clear();
  std::vector<Tensor> third = ex.run({x3});
  CHECK(third[0].f32() == released);
  CHECK(is_relu_of(third[0], x3));
  CHECK(is_relu_of(second[0], x2));
}
