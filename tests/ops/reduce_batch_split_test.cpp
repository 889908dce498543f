// Batch splitting around reductions and LayerNormalization (issue 18): a batch may run in
// chunks of samples only when no op mixes them: a Reduce* over axis 0 (or over every axis)
// and a LayerNormalization from axis 0 do; reductions over other axes (keepdims either way)
// and a LayerNormalization over trailing axes do not. A reduction over the batch then sums
// across every sample on every table (checked against a direct sum, |d| <= 1e-6).
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "common/graph_nodes.h"
#include "common/random_data.h"
#include "exec/batch_split.h"
#include "exec/executor.h"
#include "kernel_table.h"

using namespace vx;

namespace {

std::shared_ptr<Graph> one_node(const std::string& op, const std::function<void(Attrs&)>& set, Shape x) {
  auto g = std::make_shared<Graph>();
  g->inputs.push_back({"x", x});
  Node n = test::node("n", op, {"x"}, {"y"});
  set(n.attrs);
  if (op == "LayerNormalization") {
    const int axis = static_cast<int>(n.attrs.get_int("axis", -1) < 0 ? n.attrs.get_int("axis", -1) + x.rank
                                                                      : n.attrs.get_int("axis", -1));
    Shape s;
    for (int i = axis; i < x.rank; ++i) s[s.rank++] = x[i];
    g->weights["scale"] = Tensor::zeros(s);
    n.inputs.push_back("scale");
  }
  g->nodes.push_back(n);
  g->outputs = {"y"};
  return g;
}

bool independent(const std::string& op, const std::function<void(Attrs&)>& set) {
  const Shape x{4, 3, 5, 6};
  auto g = one_node(op, set, x);
  return samples_independent(*g, infer_shapes(*g, g->topological_order(), {x}), 4);
}

}  // namespace

TEST_CASE("reductions and layer norm say whether they mix samples") {
  CHECK(independent("ReduceMean", [](Attrs& a) { a.set_ints("axes", {2, 3}); }));
  CHECK(independent("ReduceSum", [](Attrs& a) { a.set_ints("axes", {1}), a.set_int("keepdims", 0); }));
  CHECK(independent("ReduceMax", [](Attrs& a) { a.set_ints("axes", {-1}); }));
  CHECK_FALSE(independent("ReduceMean", [](Attrs& a) { a.set_ints("axes", {0}); }));
  CHECK_FALSE(independent("ReduceMax", [](Attrs& a) { a.set_ints("axes", {-4, 2}); }));
  CHECK_FALSE(independent("ReduceSum", [](Attrs&) {}));  // every axis
  CHECK(independent("ReduceSum", [](Attrs& a) { a.set_int("noop_with_empty_axes", 1); }));
  CHECK(independent("LayerNormalization", [](Attrs& a) { a.set_int("axis", -1); }));
  CHECK(independent("LayerNormalization", [](Attrs& a) { a.set_int("axis", 1); }));
  CHECK_FALSE(independent("LayerNormalization", [](Attrs& a) { a.set_int("axis", 0); }));
}

TEST_CASE("a reduction over the batch runs whole and sums across samples") {
  const Shape x{4, 3, 5, 6};
  auto g = one_node("ReduceSum", [](Attrs& a) { a.set_ints("axes", {0}), a.set_int("keepdims", 0); }, x);
  const auto v = test::uniform_floats(x.numel(), 3);
  Tensor in = Tensor::empty(x);
  std::copy(v.begin(), v.end(), in.f32());
  for (const kern::KernelTable* t : kern::kernel_tables()) {
    Executor ex(g, *t);
    Tensor y = ex.run({in}).at(0);
    REQUIRE(y.shape() == Shape{3, 5, 6});
    const int64_t inner = 3 * 5 * 6;
    double worst = 0;
    for (int64_t i = 0; i < inner; ++i) {
      const double want = double(v[i]) + v[inner + i] + v[2 * inner + i] + v[3 * inner + i];
      worst = std::max(worst, std::fabs(y.f32()[i] - want));
    }
    CHECK_MESSAGE(worst <= 1e-6, t->name << ": " << worst);
  }
}
