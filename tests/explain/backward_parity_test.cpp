// Backward rules + reference backward kernels vs PyTorch autograd, one op per case
// (gen_gradcam_fixtures.py, op_*). Tolerance: |dx - dx_torch| <= 1e-4 * max(1, max|dx_torch|).
#include <doctest/doctest.h>

#include <filesystem>

#include "case_loader.h"
#include "explain/backward.h"

using namespace vx;

namespace {
void check_case(const std::string& name) {
  test::GradCase c = test::load_case(name);
  const Graph& g = *c.model->graph;
  std::vector<Tensor> ins;
  std::vector<std::string> targets;
  for (const auto& gi : g.inputs) {
    ins.push_back(c.tensor(gi.name));
    targets.push_back(gi.name);
  }
  explain::BackwardPlan plan = explain::plan_backward(g, c.model->order, g.outputs[0], targets);
  Executor ex(c.model->graph, kern::ref_kernels());
  ExecOptions eo;
  eo.keep = plan.needed;
  ex.run(ins, eo);
  auto grads = explain::run_backward(plan, ex, c.tensor("dy"));
  const std::pair<const char*, const char*> pairs[] = {{"x", "dx"}, {"b", "db"}};
  for (const auto& pr : pairs) {
    if (!c.has(pr.second)) continue;
    Tensor ref = c.tensor(pr.second);
    const double tol = 1e-4 * std::max(1.0, test::max_abs(ref));
    const double err = test::max_abs_diff(grads.at(pr.first), ref);
    INFO(name << " d" << pr.first << " max abs diff " << err << " tol " << tol);
    CHECK(err <= tol);
  }
}
}  // namespace

TEST_CASE("every op's input gradient matches PyTorch autograd") {
  const std::string dir = test::fixture_dir("gradcam");
  std::vector<std::string> cases;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("op_", 0) == 0) cases.push_back(n);
  }
  std::sort(cases.begin(), cases.end());
  REQUIRE(cases.size() >= 60);  // the generator writes 66; fewer means it broke
  for (const auto& n : cases) {
    CAPTURE(n);
    check_case(n);
  }
}

TEST_CASE("binary backward reduces over broadcast axes and accepts a null operand") {
  kern::BroadcastParams p;
  p.out[3] = 2;
  p.out[4] = 3;
  p.a_stride[3] = 3;
  p.a_stride[4] = 1;  // a: [2, 3]; b: [3] broadcast along axis 3
  p.b_stride[4] = 1;
  const float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {1, 2, 3}, dy[6] = {1, 1, 1, 1, 1, 1};
  float db[3];
  kern::ref_kernels().binary_backward(kern::Binary::mul, p, a, b, dy, nullptr, db);
  CHECK(db[0] == 5.f);
  CHECK(db[1] == 7.f);
  CHECK(db[2] == 9.f);
}
