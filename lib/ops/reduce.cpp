// ReduceMean, ReduceSum, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
// ReduceSumSquare, ReduceLogSum, ReduceLogSumExp (ONNX opsets 11-18; issue 18). Attributes:
// axes (any, negative allowed; empty or absent: all axes unless noop_with_empty_axes = 1),
// keepdims (default 1). The converter folds an `axes` input (ReduceSum opset 13, the others
// opset 18) into the attribute, so the node has one input here. With no axis reduced
// (noop_with_empty_axes) each element maps through the op's elementwise part alone (sum,
// mean, max, min, prod: the identity; l1: |x|; sum_square: x^2, ...).
#include <set>

#include "graph/op.h"
#include "ops/registry.h"

namespace vx {
namespace {

// The reduced axes of `x` as the node says (validated).
std::vector<bool> reduced_axes(const Node& node, const Shape& x) {
  std::vector<bool> red(static_cast<size_t>(std::max(0, x.rank)), false);
  const std::vector<int64_t> axes = node.attrs.get_ints("axes");
  if (axes.empty()) {
    if (node.attrs.get_int("noop_with_empty_axes", 0) == 0) red.assign(red.size(), true);
    return red;
  }
  for (int64_t a : axes) {
    if (a < -x.rank || a >= x.rank)
      fail(Status::invalid_argument, "axis " + std::to_string(a) + " is outside input " + x.str());
    const int64_t i = a < 0 ? a + x.rank : a;
    if (red[i]) fail(Status::invalid_argument, "axis " + std::to_string(a) + " is named twice in axes");
    red[i] = true;
  }
  return red;
}

class ReduceOp : public OpDef {
 public:
  ReduceOp(const char* name, kern::Reduce op) : name_(name), op_(op) {}

  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    if (in.size() == 2 && in[1].rank >= 0)
      fail(Status::unsupported, std::string(name_) + " with axes as an input: the converter folds constant axes "
                                                     "into the 'axes' attribute; run-time axes are not supported");
    if (in.empty() || in.size() > 2 || in[0].rank < 0) fail(Status::invalid_argument, std::string(name_) + " takes one input");
    if (node.outputs.size() != 1) fail(Status::invalid_argument, std::string(name_) + " has one output");
    const Shape& x = in[0];
    const std::vector<bool> red = reduced_axes(node, x);
    const bool keep = node.attrs.get_int("keepdims", 1) != 0;
    Shape y;
    for (int i = 0; i < x.rank; ++i) {
      if (red[i] && x[i] == 0)
        fail(Status::invalid_argument, std::string(name_) + " over axis " + std::to_string(i) + " of extent 0 (input " +
                                           x.str() + ") reduces no element");
      if (!red[i]) y[y.rank++] = x[i];
      else if (keep) y[y.rank++] = 1;
    }
    return {y};
  }

  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    ctx.kernels.reduce(params(node, in[0]->shape()), in[0]->f32(), out[0]->f32());
  }

  bool keeps_samples_apart(const Node& node, const BatchQuery& q) const override {
    auto it = q.shapes.find(node.inputs[0]);
    if (it == q.shapes.end() || it->second.rank < 1) return false;
    return !reduced_axes(node, it->second)[0];
  }
  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& node, BackwardContext& ctx) const override {
    const Shape xs = ctx.shape(node.inputs[0]);
    Tensor x = ctx.value(node.inputs[0]), y = ctx.value(node.outputs[0]);
    Tensor dx = Tensor::empty(xs);
    ctx.kernels().reduce_backward(params(node, xs), x.f32(), y.f32(), ctx.dy().f32(), dx.f32());
    ctx.accumulate(0, dx);
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, reduce), VX_KERNEL_USE(t, reduce_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  ExplainTraits explain_traits() const override {
    ExplainTraits e;  // a mean or max over space ends a conv backbone as a global pool does
    e.global_pool = op_ == kern::Reduce::mean || op_ == kern::Reduce::max;
    return e;
  }

 private:
  kern::ReduceParams params(const Node& node, const Shape& x) const {
    kern::ReduceParams p;
    p.op = op_;
    p.rank = x.rank;
    const std::vector<bool> red = reduced_axes(node, x);
    for (int i = 0; i < x.rank; ++i) p.shape[i] = x[i], p.reduced[i] = red[i];
    return p;
  }
  const char* name_;
  kern::Reduce op_;
};

}  // namespace

void register_reduce(OpRegistry& r) {
  using kern::Reduce;
  const std::pair<const char*, Reduce> ops[] = {
      {"ReduceSum", Reduce::sum},        {"ReduceMean", Reduce::mean},          {"ReduceMax", Reduce::max},
      {"ReduceMin", Reduce::min},        {"ReduceProd", Reduce::prod},          {"ReduceL1", Reduce::l1},
      {"ReduceL2", Reduce::l2},          {"ReduceSumSquare", Reduce::sum_square}, {"ReduceLogSum", Reduce::log_sum},
      {"ReduceLogSumExp", Reduce::log_sum_exp},
  };
  for (const auto& [name, op] : ops) r.add(name, std::make_unique<ReduceOp>(name, op));
}

}  // namespace vx
