// Unary activations (Relu, LeakyRelu{alpha}, Sigmoid, Tanh) and binary arithmetic
// (Add, Sub, Mul, Div) with NumPy broadcasting, as ONNX defines them.
#include <algorithm>

#include "graph/op.h"
#include "ops/backward_util.h"
#include "ops/registry.h"

namespace vx {
namespace {

class UnaryOp : public OpDef {
 public:
  explicit UnaryOp(kern::Unary kind) : kind_(kind) {}
  std::vector<Shape> infer(const Node&, const std::vector<Shape>& in) const override {
    if (in.size() != 1 || in[0].rank < 0) fail(Status::invalid_argument, "takes exactly one input");
    return {in[0]};
  }
  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    const float alpha = static_cast<float>(node.attrs.get_float("alpha", 0.01));
    ctx.kernels.unary(kind_, alpha, in[0]->numel(), in[0]->f32(), out[0]->f32());
  }
  bool keeps_samples_apart(const Node& node, const BatchQuery& q) const override {
    return q.constant_operand_per_sample(node);
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, unary), VX_KERNEL_USE(t, unary_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  ConvEpilogue conv_epilogue(const Node& node) const override {
    ConvEpilogue e;
    e.kind = ConvEpilogue::Kind::activation;
    e.act = kind_;
    if (kind_ == kern::Unary::leaky_relu) {
      e.alpha = node.attrs.get_float("alpha", 0.01);
      e.has_alpha = true;
    }
    return e;
  }
  ExplainTraits explain_traits() const override {
    ExplainTraits e;
    e.stage = true;
    e.squashes_logits = kind_ == kern::Unary::sigmoid;
    return e;
  }
  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& n, BackwardContext& ctx) const override {
    Tensor dx = Tensor::empty(ctx.shape(n.inputs[0]));
    ctx.kernels().unary_backward(kind_, static_cast<float>(n.attrs.get_float("alpha", 0.01)), dx.numel(),
                                 ctx.value(n.inputs[0]).f32(), ctx.value(n.outputs[0]).f32(), ctx.dy().f32(), dx.f32());
    ctx.accumulate(0, dx);
  }

 private:
  kern::Unary kind_;
};

// Right-aligns both shapes to rank 5 and checks they broadcast.
Shape broadcast_shape(const Shape& a, const Shape& b) {
  const int r = std::max(a.rank, b.rank);
  Shape o;
  o.rank = r;
  for (int i = 0; i < r; ++i) {
    const int ia = i - (r - a.rank), ib = i - (r - b.rank);
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      fail(Status::shape_mismatch, "shapes " + a.str() + " and " + b.str() + " do not broadcast");
    o[i] = std::max(da, db);
  }
  return o;
}

void fill_strides(const Shape& s, const Shape& o, int64_t stride[5]) {
  // Strides of `s` right-aligned into 5 axes, 0 where `s` has extent 1 (broadcast).
  int64_t acc = 1;
  for (int i = 4; i >= 0; --i) {
    const int si = i - (5 - s.rank);
    const int64_t d = si >= 0 ? s[si] : 1;
    stride[i] = d == 1 ? 0 : acc;
    acc *= d;
  }
  (void)o;
}

class BinaryOp : public OpDef {
 public:
  explicit BinaryOp(kern::Binary kind) : kind_(kind) {}
  std::vector<Shape> infer(const Node&, const std::vector<Shape>& in) const override {
    if (in.size() != 2 || in[0].rank < 0 || in[1].rank < 0) fail(Status::invalid_argument, "takes exactly two inputs");
    return {broadcast_shape(in[0], in[1])};
  }
  void run(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    kern::BroadcastParams p;
    const Shape& o = out[0]->shape();
    for (int i = 0; i < 5; ++i) p.out[i] = i - (5 - o.rank) >= 0 ? o[i - (5 - o.rank)] : 1;
    fill_strides(in[0]->shape(), o, p.a_stride);
    fill_strides(in[1]->shape(), o, p.b_stride);
    ctx.kernels.binary(kind_, p, in[0]->f32(), in[1]->f32(), out[0]->f32());
  }
  bool keeps_samples_apart(const Node& node, const BatchQuery& q) const override {
    return q.constant_operand_per_sample(node);
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, binary), VX_KERNEL_USE(t, binary_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  ConvEpilogue conv_epilogue(const Node&) const override {
    ConvEpilogue e;
    if (kind_ == kern::Binary::add) e.kind = ConvEpilogue::Kind::residual_add;
    return e;
  }
  ExplainTraits explain_traits() const override {
    ExplainTraits e;
    e.stage = kind_ != kern::Binary::div;
    return e;
  }
  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& n, BackwardContext& ctx) const override {
    const Shape ys = ctx.shape(n.outputs[0]);
    kern::BroadcastParams p;
    for (int i = 0; i < 5; ++i) p.out[i] = i - (5 - ys.rank) >= 0 ? ys[i - (5 - ys.rank)] : 1;
    fill_strides(ctx.shape(n.inputs[0]), ys, p.a_stride);
    fill_strides(ctx.shape(n.inputs[1]), ys, p.b_stride);
    Tensor da, db;
    if (ctx.wants(0)) da = Tensor::empty(ctx.shape(n.inputs[0]));
    if (ctx.wants(1)) db = Tensor::empty(ctx.shape(n.inputs[1]));
    Tensor a = ctx.value(n.inputs[0]), b = ctx.value(n.inputs[1]);
    ctx.kernels().binary_backward(kind_, p, a.f32(), b.f32(), ctx.dy().f32(), da.defined() ? da.f32() : nullptr,
                                  db.defined() ? db.f32() : nullptr);
    // Add(x, x) reads one tensor twice: both halves accumulate.
    if (da.defined()) ctx.accumulate(0, da);
    if (db.defined()) ctx.accumulate(1, db);
  }

 private:
  kern::Binary kind_;
};

}  // namespace

void register_elementwise(OpRegistry& r) {
  r.add("Relu", std::make_unique<UnaryOp>(kern::Unary::relu));
  r.add("LeakyRelu", std::make_unique<UnaryOp>(kern::Unary::leaky_relu));
  r.add("Sigmoid", std::make_unique<UnaryOp>(kern::Unary::sigmoid));
  r.add("Tanh", std::make_unique<UnaryOp>(kern::Unary::tanh));
  r.add("Add", std::make_unique<BinaryOp>(kern::Binary::add));
  r.add("Sub", std::make_unique<BinaryOp>(kern::Binary::sub));
  r.add("Mul", std::make_unique<BinaryOp>(kern::Binary::mul));
  r.add("Div", std::make_unique<BinaryOp>(kern::Binary::div));
}

}  // namespace vx
