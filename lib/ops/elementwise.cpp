// Unary activations (Relu, LeakyRelu{alpha}, Sigmoid, Tanh) and binary arithmetic
// (Add, Sub, Mul, Div) with NumPy broadcasting, as ONNX defines them.
#include <algorithm>

#include "graph/op.h"
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
