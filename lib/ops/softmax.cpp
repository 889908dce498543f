// Softmax and LogSoftmax over one axis (ONNX opset 13 semantics): attribute axis, default 1,
// may be negative. The converter rewrites opset 11-12's "flatten from axis" form
// (weights/convert.py, _softmax) into Flatten, this op on axis 1, Reshape.
#include "graph/op.h"
#include "ops/backward_util.h"
#include "ops/registry.h"

namespace vx {
namespace {

int softmax_axis(const Node& node, const Shape& x) {
  const int64_t a = node.attrs.get_int("axis", 1);
  if (a < -x.rank || a >= x.rank)
    fail(Status::invalid_argument, "axis " + std::to_string(a) + " is outside input " + x.str());
  return static_cast<int>(a < 0 ? a + x.rank : a);
}

class SoftmaxOp : public OpDef {
 public:
  explicit SoftmaxOp(bool log) : log_(log) {}
  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    if (in.size() != 1 || in[0].rank < 1)
      fail(Status::invalid_argument, std::string(log_ ? "LogSoftmax" : "Softmax") + " takes exactly one input");
    softmax_axis(node, in[0]);
    return {in[0]};
  }
  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    const Shape& x = in[0]->shape();
    const int a = softmax_axis(node, x);
    (log_ ? ctx.kernels.log_softmax : ctx.kernels.softmax)(x.prod(0, a), x[a], x.prod(a + 1, x.rank), in[0]->f32(),
                                                           out[0]->f32());
  }
  bool keeps_samples_apart(const Node& node, const BatchQuery& q) const override {
    return q.constant_operand_per_sample(node) && q.axis(node, 1) != 0;
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    if (log_) return {VX_KERNEL_USE(t, log_softmax), VX_KERNEL_USE(t, log_softmax_backward)};
    return {VX_KERNEL_USE(t, softmax), VX_KERNEL_USE(t, softmax_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  ExplainTraits explain_traits() const override {
    ExplainTraits e;
    e.squashes_logits = true;  // LogSoftmax too: Grad-CAM takes the raw logit before either
    return e;
  }
  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& n, BackwardContext& ctx) const override {
    const Shape ys = ctx.shape(n.outputs[0]);
    const int axis = norm_axis(n.attrs.get_int("axis", 1), ys.rank);
    Tensor dx = Tensor::empty(ctx.shape(n.inputs[0]));
    (log_ ? ctx.kernels().log_softmax_backward : ctx.kernels().softmax_backward)(
        ys.prod(0, axis), ys[axis], ys.prod(axis + 1, ys.rank), ctx.value(n.outputs[0]).f32(), ctx.dy().f32(), dx.f32());
    ctx.accumulate(0, dx);
  }

 private:
  bool log_;
};

}  // namespace

void register_softmax(OpRegistry& r) {
  r.add("Softmax", std::make_unique<SoftmaxOp>(false));
  r.add("LogSoftmax", std::make_unique<SoftmaxOp>(true));
}

}  // namespace vx
