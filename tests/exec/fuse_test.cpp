// fuse_graph: the fused graph computes what the unfused one does (per kernel table, and
// against the reference table), on random graphs with residual blocks, shared outputs,
// broadcast Adds and graph outputs in the middle; and it fuses exactly what it may.
// Tolerance: |fused - unfused| <= 1e-4 + 1e-4|unfused| (oneDNN post-ops vs separate passes
// and a different summation order; values stay O(1) through sigmoid/tanh/relu chains).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "exec/executor.h"
#include "exec/fuse.h"
#include "kernel_table.h"

using namespace vx;

namespace {

struct Builder {
  Graph g;
  std::mt19937 rng;
  int id = 0;
  int64_t c;
  int expected_removed = 0;

  explicit Builder(uint32_t seed) : rng(seed) {}
  std::string fresh(const std::string& p) { return p + std::to_string(id++); }
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  Tensor random(const Shape& s, float scale) {
    Tensor t = Tensor::empty(s);
    std::uniform_real_distribution<float> d(-scale, scale);
    for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = d(rng);
    return t;
  }
  std::string add_node(const std::string& op, std::vector<std::string> in, Attrs attrs = {}) {
    Node n;
    n.name = fresh(op);
    n.op = op;
    n.inputs = std::move(in);
    n.outputs = {fresh("t")};
    n.attrs = attrs;
    g.nodes.push_back(n);
    return n.outputs[0];
  }
  std::string conv(const std::string& x) {
    const std::string w = fresh("w");
    g.weights[w] = random(Shape{c, c, 3, 3, 3}, 0.3f);
    std::vector<std::string> in{x, w};
    if (pick(2)) {
      const std::string b = fresh("b");
      g.weights[b] = random(Shape{c}, 0.5f);
      in.push_back(b);
    }
    Attrs a;
    a.set_ints("pads", {1, 1, 1, 1, 1, 1});
    return add_node("Conv", in, a);
  }
  std::string act(const std::string& x, int kind) {
    static const char* ops[] = {"Relu", "LeakyRelu", "Sigmoid", "Tanh"};
    Attrs a;
    if (kind == 1) a.set_float("alpha", 0.05 + 0.1 * pick(3));
    return add_node(ops[kind], {x}, a);
  }
};

// Returns the graph; `b.expected_removed` counts the nodes fusion must remove.
Builder random_graph(uint32_t seed) {
  Builder b(seed);
  b.c = 2 + b.pick(3);
  b.g.inputs.push_back({"x", Shape{1, b.c, 4 + b.pick(3), 5, 3 + b.pick(4)}});
  std::string x = "x";
  const int blocks = 3 + b.pick(4);
  for (int i = 0; i < blocks; ++i) {
    switch (b.pick(5)) {
      case 0: {  // conv + activation
        x = b.act(b.conv(x), b.pick(4));
        b.expected_removed += 1;
        break;
      }
      case 1: {  // basic residual block: relu(conv(relu(conv(x))) + x), either Add order
        const std::string y = b.act(b.conv(x), 0);
        const std::string z = b.conv(y);
        const std::string s = b.pick(2) ? b.add_node("Add", {z, x}) : b.add_node("Add", {x, z});
        x = b.act(s, 0);
        b.expected_removed += 3;
        break;
      }
      case 2: {  // conv output read twice: nothing to fuse for it
        const std::string c = b.conv(x);
        x = b.add_node("Add", {b.act(c, 2), c});
        break;
      }
      case 3: {  // broadcast Add (per-channel tensor): must stay separate
        const std::string w = b.fresh("bc");
        b.g.weights[w] = b.random(Shape{1, b.c, 1, 1, 1}, 1.f);
        x = b.add_node("Add", {b.conv(x), w});
        break;
      }
      case 4: {  // conv output is also a graph output: must stay visible
        const std::string c = b.conv(x);
        b.g.outputs.push_back(c);
        x = b.act(c, 3);
        break;
      }
    }
  }
  b.g.outputs.push_back(x);
  return b;
}

void expect_close(const Tensor& got, const Tensor& want, const std::string& what) {
  REQUIRE(got.shape() == want.shape());
  int64_t bad = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double d = std::fabs(double(got.f32()[i]) - want.f32()[i]);
    if (!(d <= 1e-4 + 1e-4 * std::fabs(want.f32()[i]))) ++bad;
  }
  INFO(what << ": " << bad << " of " << got.numel() << " values outside tolerance");
  CHECK(bad == 0);
}

// Keeping every intermediate tensor stops the executor's own fusion: an unfused run.
ExecOptions keep_all(const Graph& g) {
  ExecOptions o;
  for (const Node& n : g.nodes) o.keep.insert(n.outputs.begin(), n.outputs.end());
  return o;
}

}  // namespace

TEST_CASE("fused graph == unfused graph on random graphs, every kernel table") {
  for (uint32_t seed = 1; seed <= 25; ++seed) {
    Builder b = random_graph(seed);
    auto plain = std::make_shared<const Graph>(b.g);
    auto fused = std::make_shared<const Graph>(fuse_graph(b.g));
    INFO("seed " << seed);
    CHECK(fused->nodes.size() + b.expected_removed == plain->nodes.size());
    CHECK(fused->outputs == plain->outputs);
    const Tensor x = b.random(b.g.inputs[0].shape, 1.f);
    Executor oracle(plain, kern::ref_kernels());
    const std::vector<Tensor> want = oracle.run({x}, keep_all(*plain));
    CHECK(oracle.run_graph().nodes.size() == plain->nodes.size());
    for (const kern::KernelTable* t : kern::kernel_tables()) {
      Executor unf(plain, *t), fus(fused, *t), own(plain, *t);
      const std::vector<Tensor> a = unf.run({x}, keep_all(*plain)), f = fus.run({x}), o = own.run({x});
      CHECK(own.run_graph().nodes.size() == fused->nodes.size());  // the executor fuses by itself
      REQUIRE(f.size() == want.size());
      for (size_t i = 0; i < f.size(); ++i) {
        expect_close(f[i], a[i], std::string(t->name) + " fused vs unfused, output " + std::to_string(i));
        expect_close(f[i], want[i], std::string(t->name) + " fused vs ref unfused, output " + std::to_string(i));
        expect_close(o[i], a[i], std::string(t->name) + " executor-fused vs unfused, output " + std::to_string(i));
      }
    }
  }
}

TEST_CASE("fuse_graph respects keep, run-time dimensions, and activation-then-Add order") {
  Builder b(99);
  b.c = 3;
  b.g.inputs.push_back({"x", Shape{1, 3, -1, 6, -1}});
  const std::string c1 = b.conv("x");
  const std::string r1 = b.act(c1, 0);           // conv -> relu: fused...
  const std::string s = b.add_node("Add", {r1, "x"});  // ...so this Add is relu(conv)+x: not fusable
  const std::string c2 = b.conv(s);
  const std::string s2 = b.add_node("Add", {"x", c2});  // residual with run-time dims: fused
  b.g.outputs = {s2};
  Graph f = fuse_graph(b.g);
  CHECK(f.nodes.size() == 3);  // conv+relu, Add, conv+residual
  int with_residual = 0, with_act = 0;
  for (const Node& n : f.nodes) {
    if (n.op == "Conv" && n.inputs.size() == 4 && n.inputs[3] == "x") ++with_residual;
    if (n.op == "Conv" && n.attrs.get_str("activation", "") == "relu") ++with_act;
  }
  CHECK(with_residual == 1);
  CHECK(with_act == 1);
  Graph k = fuse_graph(b.g, {c1});  // keeping c1 stops the relu fusion
  CHECK(k.nodes.size() == 4);
  int relus = 0;
  for (const Node& n : k.nodes) relus += n.op == "Relu";
  CHECK(relus == 1);
}

TEST_CASE("the executor keeps tensors in ExecOptions.keep and `visible` unfused, and re-fuses when keep changes") {
  Builder b(7);
  b.c = 3;
  b.g.inputs.push_back({"x", Shape{1, 3, 5, 6, 4}});
  const std::string c1 = b.conv("x");
  const std::string r1 = b.act(c1, 0);
  const std::string c2 = b.conv(r1);
  const std::string r2 = b.act(c2, 2);
  b.g.outputs = {r2};
  auto g = std::make_shared<const Graph>(b.g);
  const Tensor x = b.random(b.g.inputs[0].shape, 1.f);
  Executor plain(g, kern::default_kernels());
  const Tensor want = plain.run({x}, keep_all(*g))[0];
  const Tensor want_c1 = plain.tensor(c1).clone(), want_c2 = plain.tensor(c2).clone();

  Executor ex(g, kern::default_kernels(), {c2});  // c2 visible whatever run() keeps
  ExecOptions o;
  o.keep = {c1};
  expect_close(ex.run({x}, o)[0], want, "output, keep c1");
  CHECK(ex.run_graph().nodes.size() == 4);  // nothing fused: c1 kept, c2 visible
  expect_close(ex.tensor(c1), want_c1, "kept c1");
  expect_close(ex.tensor(c2), want_c2, "visible c2");
  CHECK(ex.shapes().count(c1) == 1);
  o.keep.clear();
  expect_close(ex.run({x}, o)[0], want, "output, keep nothing");
  CHECK(ex.run_graph().nodes.size() == 3);  // conv+relu fused again
  CHECK_THROWS(ex.tensor(c1));
  CHECK(ex.shapes().count(c1) == 1);  // shapes stay those of the unfused graph
  expect_close(ex.tensor(c2), want_c2, "visible c2 after re-fusing");
}

// Conv -> Relu -> MaxPool becomes one Conv run in slabs (lib/ops/conv_pool.h) once the
// convolution's output reaches 8 MiB. Oracle: the same graph with the conv output kept, which
// stops every fusion. Reference table: bit-identical; fast tables: the tolerance above.
TEST_CASE("the executor runs Conv -> Relu -> MaxPool in slabs: same values, a fraction of the arena") {
  Builder b(11);
  b.c = 16;
  b.g.inputs.push_back({"x", Shape{1, 1, 33, 64, 64}});
  b.g.weights["w1"] = b.random(Shape{16, 1, 1, 1, 1}, 1.f);  // pointwise 1 -> 16: 8.6 MB out
  b.g.weights["b1"] = b.random(Shape{16}, 0.5f);
  const std::string c1 = b.add_node("Conv", {"x", "w1", "b1"});
  const std::string r1 = b.act(c1, 0);
  Attrs pool;
  pool.set_ints("kernel_shape", {3, 3, 3});
  pool.set_ints("strides", {2, 2, 2});
  pool.set_ints("pads", {1, 1, 1, 1, 1, 1});
  const std::string p1 = b.add_node("MaxPool", {r1}, pool);
  b.g.outputs = {b.conv(p1)};  // a 16-channel reader: the pooled tensor is blocked on fast tables
  auto g = std::make_shared<const Graph>(b.g);
  const Tensor x = b.random(b.g.inputs[0].shape, 1.f);
  ExecOptions unfused;
  unfused.keep = {c1};
  const size_t conv_bytes = 16 * 33 * 64 * 64 * sizeof(float);

  for (const kern::KernelTable* t : kern::kernel_tables()) {
    INFO(t->name);
    Executor whole(g, *t), slabs(g, *t);
    const Tensor want = whole.run({x}, unfused)[0];
    const Tensor got = slabs.run({x})[0];
    int pools = 0, slabbed = 0;
    for (const Node& n : slabs.run_graph().nodes) {
      pools += n.op == "MaxPool";
      slabbed += n.op == "Conv" && n.outputs.size() == 2 && n.attrs.has("vx_pool_kernel_shape");
    }
    CHECK(pools == 0);
    CHECK(slabbed == 1);
    CHECK(whole.plan().arena_bytes >= 2 * conv_bytes);  // conv and relu outputs, both kept
    CHECK(slabs.plan().arena_bytes * 2 < conv_bytes);
    if (t == &kern::ref_kernels()) {
      REQUIRE(got.shape() == want.shape());
      CHECK(std::memcmp(got.f32(), want.f32(), static_cast<size_t>(got.numel()) * sizeof(float)) == 0);
    } else {
      expect_close(got, want, std::string(t->name) + " slabbed vs whole");
    }
  }
}

TEST_CASE("a Conv with a fused pooling in a model file is checked like any op") {
  Builder b(12);
  b.c = 16;
  b.g.inputs.push_back({"x", Shape{1, 16, 6, 6, 6}});
  const std::string c = b.conv("x");
  Node& n = b.g.nodes.back();
  n.attrs.set_ints("vx_pool_kernel_shape", {2, 2, 2});
  b.g.outputs = {c};
  const Tensor x = b.random(b.g.inputs[0].shape, 1.f);
  {  // one output where the fused op makes two
    Executor ex(std::make_shared<const Graph>(b.g), kern::default_kernels());
    CHECK_THROWS_WITH(ex.run({x}), doctest::Contains("must have 2 outputs"));
  }
  b.g.nodes.back().outputs.push_back("scratch");
  b.g.nodes.back().inputs.resize(4);
  b.g.nodes.back().inputs[3] = "x";  // a residual
  Executor ex(std::make_shared<const Graph>(b.g), kern::default_kernels());
  CHECK_THROWS_WITH(ex.run({x}), doctest::Contains("takes no residual"));
}
