// Bad graphs and bad inputs give an Error naming what is wrong; never a crash.
#include <doctest/doctest.h>

#include <string>

#include "../common/graph_nodes.h"
#include "exec/executor.h"
#include "graph/graph.h"

using namespace vx;

namespace {
using test::node;

Graph conv_relu() {
  Graph g;
  g.inputs.push_back({"x", Shape{1, 2, 5, 5}});
  g.weights["w"] = Tensor::zeros({3, 2, 3, 3});
  g.nodes.push_back(node("conv", "Conv", {"x", "w"}, {"c"}));
  g.nodes.push_back(node("relu", "Relu", {"c"}, {"y"}));
  g.outputs = {"y"};
  return g;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("a valid graph orders and infers") {
  Graph g = conv_relu();
  auto order = g.topological_order();
  CHECK(order.size() == 2);
  auto shapes = infer_shapes(g, order, {Shape{1, 2, 5, 5}});
  CHECK(shapes.at("y") == Shape{1, 3, 3, 3});
}

TEST_CASE("a cycle is reported with a node name") {
  Graph g = conv_relu();
  g.nodes[0].inputs[0] = "y";  // conv reads relu's output
  g.inputs[0].name = "unused";
  std::string msg = error_of([&] { g.topological_order(); });
  CHECK(msg.find("cycle") != std::string::npos);
}

TEST_CASE("an unknown tensor name is reported") {
  Graph g = conv_relu();
  g.nodes[1].inputs[0] = "nope";
  std::string msg = error_of([&] { g.topological_order(); });
  CHECK(msg.find("'nope'") != std::string::npos);
}

TEST_CASE("an unknown op, a duplicate producer, a missing output") {
  Graph g = conv_relu();
  g.nodes[1].op = "Frobnicate";
  CHECK(error_of([&] { g.topological_order(); }).find("Frobnicate") != std::string::npos);
  g = conv_relu();
  g.nodes[1].outputs[0] = "c";
  CHECK(error_of([&] { g.topological_order(); }).find("produced twice") != std::string::npos);
  g = conv_relu();
  g.outputs = {"zzz"};
  CHECK(error_of([&] { g.topological_order(); }).find("zzz") != std::string::npos);
}

TEST_CASE("mismatched shapes name the node") {
  Graph g = conv_relu();
  g.weights["w"] = Tensor::zeros({3, 4, 3, 3});  // expects 4 input channels
  auto order = g.topological_order();
  std::string msg = error_of([&] { infer_shapes(g, order, {Shape{1, 2, 5, 5}}); });
  CHECK(msg.find("node 'conv'") != std::string::npos);
  // Kernel larger than the input (the graph accepts any spatial size).
  g = conv_relu();
  g.inputs[0].shape = Shape{1, 2, -1, -1};
  msg = error_of([&] { infer_shapes(g, g.topological_order(), {Shape{1, 2, 2, 2}}); });
  CHECK(msg.find("larger") != std::string::npos);
}

TEST_CASE("negative or zero sizes are rejected") {
  Graph g = conv_relu();
  g.inputs[0].shape = Shape{1, 2, -5, 5};
  CHECK(error_of([&] { g.topological_order(); }).find("invalid dimension") != std::string::npos);
  g = conv_relu();
  auto order = g.topological_order();
  CHECK_FALSE(error_of([&] { infer_shapes(g, order, {Shape{1, 2, 0, 5}}); }).empty());
  Node bad = node("c2", "Conv", {"x", "w"}, {"q"});
  bad.attrs.set_ints("strides", {0, 1});
  g.nodes.push_back(bad);
  CHECK(error_of([&] { infer_shapes(g, g.topological_order(), {Shape{1, 2, 5, 5}}); }).find("strides") !=
        std::string::npos);
}

TEST_CASE("the executor runs conv + relu and rejects wrong inputs") {
  auto g = std::make_shared<Graph>(conv_relu());
  Tensor w = Tensor::empty({3, 2, 3, 3});
  for (int64_t i = 0; i < w.numel(); ++i) w.f32()[i] = (i % 7) - 3.f;
  g->weights["w"] = w;
  Executor ex(g, kern::ref_kernels());
  Tensor x = Tensor::empty({1, 2, 5, 5});
  for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = (i % 5) - 2.f;
  auto y = ex.run({x});
  REQUIRE(y.size() == 1);
  CHECK(y[0].shape() == Shape{1, 3, 3, 3});
  // Direct sum for output (0, 1, 2, 0).
  float acc = 0;
  for (int c = 0; c < 2; ++c)
    for (int ky = 0; ky < 3; ++ky)
      for (int kx = 0; kx < 3; ++kx) acc += x.f32()[(c * 5 + 2 + ky) * 5 + kx] * w.f32()[((1 * 2 + c) * 3 + ky) * 3 + kx];
  CHECK(y[0].f32()[(1 * 3 + 2) * 3 + 0] == doctest::Approx(acc > 0 ? acc : 0));
  CHECK_THROWS_AS(ex.run({Tensor::empty({1, 3, 5, 5})}), Error);
  CHECK_THROWS_AS(ex.run({}), Error);
  ExecOptions cancel;
  cancel.progress = [](int64_t, int64_t) { return true; };
  try {
    ex.run({x}, cancel);
    FAIL("expected cancellation");
  } catch (const Error& e) {
    CHECK(e.status() == Status::cancelled);
  }
}
