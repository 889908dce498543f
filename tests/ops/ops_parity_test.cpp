// Every op against PyTorch: each case of $VX_FIXTURE_DIR/ops (tests/ops/gen_ops_fixtures.py)
// becomes a one-node graph run through the Executor once per kernel table.
// Pass: max |ours - torch| <= tol * max(1, max |torch|), tol = 1e-4 unless the case says.
#include <doctest/doctest.h>

#include <cstdio>
#include <memory>
#include <set>

#include "common/fixtures.h"
#include "exec/executor.h"
#include "graph/op.h"
#include "kernel_table.h"

using namespace vx;

namespace {

struct Case {
  std::string name;
  std::shared_ptr<Graph> graph;
  std::vector<Tensor> inputs;
  Tensor expected;
  double tol = 1e-4;
};

Case load_case(const std::string& dir, const nlohmann::json& c) {
  Case k;
  k.name = c.at("name").get<std::string>();
  k.tol = c.value("tol", 1e-4);
  auto g = std::make_shared<Graph>();
  Node n;
  n.name = k.name;
  n.op = c.at("op").get<std::string>();
  n.attrs = test::attrs_of(c.at("attrs"));
  for (const auto& in : c.at("inputs")) {
    if (in.is_null()) {
      n.inputs.emplace_back();
      continue;
    }
    const std::string name = in.at("name").get<std::string>();
    Tensor t = test::read_bin(dir + "/" + in.at("file").get<std::string>(), test::shape_of(in.at("shape")));
    n.inputs.push_back(name);
    if (in.at("weight").get<bool>()) {
      g->weights[name] = t;
    } else {
      g->inputs.push_back({name, t.shape()});
      k.inputs.push_back(t);
    }
  }
  n.outputs = {"y"};
  g->nodes.push_back(n);
  g->outputs = {"y"};
  k.graph = g;
  const auto& out = c.at("output");
  k.expected = test::read_bin(dir + "/" + out.at("file").get<std::string>(), test::shape_of(out.at("shape")));
  return k;
}

// Returns "" when within tolerance, else a description of the failure.
std::string compare(const Tensor& got, const Tensor& want, double tol) {
  if (got.shape() != want.shape()) return "shape " + got.shape().str() + " != expected " + want.shape().str();
  const double err = test::max_abs_diff(got, want), bound = tol * std::max(1.0, test::max_abs(want));
  if (err <= bound) return "";
  char buf[160];
  std::snprintf(buf, sizeof buf, "max abs error %.3g > bound %.3g", err, bound);
  return buf;
}

}  // namespace

TEST_CASE("every op matches PyTorch on every kernel table") {
  const std::string dir = test::fixture_dir("ops");
  const nlohmann::json manifest = test::read_json(dir + "/manifest.json");
  const auto& cases = manifest.at("cases");
  REQUIRE(cases.size() >= 60);

  std::set<std::string> ops_seen;
  int failures = 0;
  for (const kern::KernelTable* table : kern::kernel_tables()) {
    double worst = 0;
    std::string worst_case;
    for (const auto& c : cases) {
      Case k = load_case(dir, c);
      ops_seen.insert(k.graph->nodes[0].op);
      std::string why;
      Tensor got;
      try {
        Executor ex(k.graph, *table);
        got = ex.run(k.inputs).at(0);
        why = compare(got, k.expected, k.tol);
        // A second run reuses the plan, arena and cached op state: it must give the same.
        if (why.empty()) why = compare(ex.run(k.inputs).at(0), k.expected, k.tol);
      } catch (const std::exception& e) {
        why = std::string("threw: ") + e.what();
      }
      if (!why.empty()) {
        ++failures;
        FAIL_CHECK("[" << std::string(table->name) << "] " << k.name << ": " << why);
      } else {
        const double rel = test::max_abs_diff(got, k.expected) / std::max(1.0, test::max_abs(k.expected));
        if (rel >= worst) {
          worst = rel;
          worst_case = k.name;
        }
      }
    }
    MESSAGE("[" << std::string(table->name) << "] " << cases.size() << " cases, worst relative error " << worst << " ("
                << worst_case << ")");
  }
  CHECK(failures == 0);
  // Every registered op whose parity test is this one (OpDef::parity_test) has a case.
  int promised = 0;
  for (const std::string& op : registered_ops()) {
    if (std::string(find_op(op)->parity_test()) != "tests/ops/gen_ops_fixtures.py") continue;
    ++promised;
    CHECK_MESSAGE(ops_seen.count(op), "no fixture case for " << op);
  }
  CHECK(promised >= 28);
}

TEST_CASE("the comparison catches a wrong answer") {
  // Guards the harness itself: a perturbation above the tolerance must be reported.
  Tensor want = Tensor::zeros({2, 3});
  Tensor got = want.clone();
  CHECK(compare(got, want, 1e-4).empty());
  got.f32()[4] = 2e-4f;
  CHECK(!compare(got, want, 1e-4).empty());
  CHECK(!compare(Tensor::zeros({3, 2}), want, 1e-4).empty());
}
