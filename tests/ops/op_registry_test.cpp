// Every registered op is complete (lib/graph/op.h, "An op is one place"): the kernel-table
// entries it calls are in the reference table (kernels/ref), its parity test exists and names
// it, and it either has a Grad-CAM backward rule or declares Gradient::none. The rules an op
// must not forget are pure virtual in OpDef (a compile error); this test catches what a
// compiler cannot: a declaration that points nowhere.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "graph/op.h"
#include "kernel_table.h"

using namespace vx;

namespace {

std::string read_source(const std::string& rel) {
  std::ifstream f(std::string(VX_SOURCE_DIR) + "/" + rel);
  if (!f) return {};
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Thrown by ProbeContext: backward() reached the context, so the op wrote a rule.
struct Probed {};

class ProbeContext final : public BackwardContext {
 public:
  const kern::KernelTable& kernels() const override { throw Probed{}; }
  Shape shape(const std::string&) const override { throw Probed{}; }
  Tensor value(const std::string&) const override { throw Probed{}; }
  const Tensor& dy() const override { throw Probed{}; }
  bool wants(size_t) const override { throw Probed{}; }
  void accumulate(size_t, Tensor) override { throw Probed{}; }
};

// Whether op `name` implements backward() (rather than inheriting the default that fails).
bool implements_backward(const std::string& name, const OpDef& op) {
  Node n;
  n.name = "probe";
  n.op = name;
  n.inputs = {"i0", "i1", "i2", "i3", "i4"};
  n.outputs = {"y"};
  ProbeContext ctx;
  try {
    op.backward(n, ctx);
  } catch (const Probed&) {
    return true;
  } catch (const Error& e) {
    return std::string(e.what()).find("implements no backward()") == std::string::npos;
  }
  return true;  // a rule that needs nothing of the run
}

// What op `name` lacks; empty when it is complete.
std::vector<std::string> problems(const std::string& name, const OpDef& op) {
  std::vector<std::string> p;
  for (const KernelUse& k : op.kernels(kern::ref_kernels()))
    if (!k.present) p.push_back("the reference table has no '" + std::string(k.entry) + "' (kernels/ref)");
  const char* test = op.parity_test();
  if (!test || !*test) {
    p.push_back("names no parity test");
  } else {
    const std::string text = read_source(test);
    if (text.empty()) p.push_back(std::string("its parity test ") + test + " does not exist");
    else if (text.find('"' + name + '"') == std::string::npos && text.find('\'' + name + '\'') == std::string::npos)
      p.push_back(std::string("its parity test ") + test + " never names \"" + name + "\"");
  }
  if (op.gradient() == Gradient::rule && !implements_backward(name, op))
    p.push_back("declares a backward rule (Gradient::rule) but implements no backward()");
  return p;
}

// Incomplete ops, never registered: the check must catch each.
class DummyOp : public OpDef {
 public:
  std::vector<Shape> infer(const Node&, const std::vector<Shape>& in) const override { return in; }
  void run(const Node&, const std::vector<const Tensor*>&, const std::vector<Tensor*>&, RunContext&) const override {}
  bool keeps_samples_apart(const Node&, const BatchQuery&) const override { return false; }
  Gradient gradient() const override { return Gradient::none; }
  std::vector<KernelUse> kernels(const kern::KernelTable&) const override { return {}; }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
};
class NoReferenceKernel : public DummyOp {  // kernels/ref has no layout reorder
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override { return {VX_KERNEL_USE(t, reorder)}; }
};
class NoParityFile : public DummyOp {
  const char* parity_test() const override { return "tests/ops/no_such_test.cpp"; }
};
class RuleNotWritten : public DummyOp {
  Gradient gradient() const override { return Gradient::rule; }
};

}  // namespace

TEST_CASE("every registered op has a reference kernel, a parity test and a backward rule or 'no gradient'") {
  const std::vector<std::string> ops = registered_ops();
  REQUIRE(ops.size() >= 29);  // today's set (lib/ops/registry.cpp); the list only grows
  int with_rule = 0;
  for (const std::string& name : ops) {
    const OpDef* op = find_op(name);
    REQUIRE(op != nullptr);
    for (const std::string& p : problems(name, *op)) FAIL_CHECK("op " << name << ": " << p);
    with_rule += op->gradient() == Gradient::rule;
  }
  MESSAGE(ops.size() << " ops registered, " << with_rule << " with a backward rule");
}

TEST_CASE("an incomplete op is caught") {
  CHECK(problems("Dummy", DummyOp()).size() == 1);  // gen_ops_fixtures.py never names "Dummy"
  CHECK(problems("Conv", DummyOp()).empty());
  CHECK(problems("Conv", NoReferenceKernel()).size() == 1);
  CHECK(problems("Conv", NoParityFile()).size() == 1);
  CHECK(problems("Conv", RuleNotWritten()).size() == 1);
}

TEST_CASE("the op traits the passes ask for are where the ops declare them") {
  // A few declarations the executor's passes depend on (lib/exec, lib/explain).
  CHECK(find_op("Relu")->conv_epilogue(Node{}).kind == ConvEpilogue::Kind::activation);
  CHECK(find_op("Add")->conv_epilogue(Node{}).kind == ConvEpilogue::Kind::residual_add);
  CHECK(find_op("MaxPool")->conv_epilogue(Node{}).kind == ConvEpilogue::Kind::max_pool);
  CHECK(find_op("Div")->conv_epilogue(Node{}).kind == ConvEpilogue::Kind::none);
  CHECK(find_op("GlobalAveragePool")->explain_traits().global_pool);
  CHECK(find_op("Conv")->explain_traits().feature_map);
  CHECK(find_op("Softmax")->explain_traits().squashes_logits);
  CHECK(find_op("LayoutReorder")->gradient() == Gradient::none);
  CHECK(find_op("Reshape")->alias_input() == 0);
}
