// LayerNormalization (ONNX opset 17; issue 18): X normalised over its axes from `axis`
// (default -1) on, by each row's mean and biased variance, then * Scale + B (B optional;
// Scale optional here too). Scale and B broadcast to X.shape[axis:] (one value, or the
// trailing extents). Optional outputs Mean and InvStdDev have X.shape[:axis] followed by
// ones. Statistics are computed in double whatever stash_type says (at least as exact).
#include "graph/op.h"
#include "ops/registry.h"

namespace vx {
namespace {

int ln_axis(const Node& node, int rank) {
  const int64_t a = node.attrs.get_int("axis", -1);
  if (a < -rank || a >= rank)
    fail(Status::invalid_argument, "axis " + std::to_string(a) + " is outside a rank-" + std::to_string(rank) + " input");
  return static_cast<int>(a < 0 ? a + rank : a);
}

// Whether `s` (Scale or B) broadcasts onto the normalised extents x[axis:] without
// reaching an outer axis: one value, or x's trailing extents (leading ones allowed).
void check_affine(const char* what, const Shape& s, const Shape& x, int axis) {
  if (s.rank < 0 || s.numel() == 1) return;
  const int inner_rank = x.rank - axis;
  bool ok = true;
  int lead = s.rank - inner_rank;  // s axes before the normalised ones: must be 1
  for (int i = 0; i < s.rank; ++i) {
    if (i < lead) ok = ok && s[i] == 1;
    else ok = ok && s[i] == x[axis + i - lead];
  }
  if (!ok || s.numel() != x.prod(axis, x.rank))
    fail(Status::shape_mismatch, std::string(what) + " " + s.str() + " must have the normalised extents of input " +
                                     x.str() + " from axis " + std::to_string(axis) + " (or be one value)");
}

// `t`'s values over the normalised extents: itself, or its one value repeated into `buf`.
const float* affine(const Tensor* t, int64_t inner, std::vector<float>& buf) {
  if (!t || !t->defined()) return nullptr;
  if (t->numel() == inner) return t->f32();
  buf.assign(static_cast<size_t>(inner), t->f32()[0]);
  return buf.data();
}

class LayerNormOp : public OpDef {
 public:
  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    if (in.empty() || in.size() > 3 || in[0].rank < 1)
      fail(Status::invalid_argument, "LayerNormalization takes X, Scale and an optional B");
    if (node.outputs.empty() || node.outputs.size() > 3)
      fail(Status::invalid_argument, "LayerNormalization has 1 to 3 outputs (Y, Mean, InvStdDev)");
    const Shape& x = in[0];
    const int axis = ln_axis(node, x.rank);
    if (in.size() > 1) check_affine("Scale", in[1], x, axis);
    if (in.size() > 2) check_affine("B", in[2], x, axis);
    if (!(node.attrs.get_float("epsilon", 1e-5) >= 0)) fail(Status::invalid_argument, "epsilon must be >= 0");
    if (x.prod(axis, x.rank) == 0)
      fail(Status::invalid_argument, "LayerNormalization over no element (input " + x.str() + ")");
    Shape stats = x;
    for (int i = axis; i < x.rank; ++i) stats[i] = 1;
    std::vector<Shape> out{x};
    for (size_t i = 1; i < node.outputs.size(); ++i) out.push_back(stats);
    return out;
  }

  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    const kern::LayerNormParams p = params(node, in[0]->shape());
    std::vector<float> sb, bb;
    ctx.kernels.layer_norm(p, in[0]->f32(), affine(in.size() > 1 ? in[1] : nullptr, p.inner, sb),
                           affine(in.size() > 2 ? in[2] : nullptr, p.inner, bb), out[0]->f32(),
                           out.size() > 1 && out[1] ? out[1]->f32() : nullptr,
                           out.size() > 2 && out[2] ? out[2]->f32() : nullptr);
  }

  bool keeps_samples_apart(const Node& node, const BatchQuery& q) const override {
    auto it = q.shapes.find(node.inputs[0]);
    if (it == q.shapes.end() || it->second.rank < 2) return false;
    for (size_t i = 1; i < node.inputs.size(); ++i)
      if (!node.inputs[i].empty() && !q.is_weight(node.inputs[i])) return false;
    return ln_axis(node, it->second.rank) > 0;
  }
  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& node, BackwardContext& ctx) const override {
    const Shape xs = ctx.shape(node.inputs[0]);
    const kern::LayerNormParams p = params(node, xs);
    Tensor x = ctx.value(node.inputs[0]), scale;
    if (node.inputs.size() > 1 && !node.inputs[1].empty()) scale = ctx.value(node.inputs[1]);
    std::vector<float> sb;
    Tensor dx = Tensor::empty(xs);
    ctx.kernels().layer_norm_backward(p, x.f32(), affine(&scale, p.inner, sb), ctx.dy().f32(), dx.f32());
    ctx.accumulate(0, dx);
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, layer_norm), VX_KERNEL_USE(t, layer_norm_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  ExplainTraits explain_traits() const override {
    ExplainTraits e;
    e.stage = true;
    return e;
  }

 private:
  static kern::LayerNormParams params(const Node& node, const Shape& x) {
    const int axis = ln_axis(node, x.rank);
    kern::LayerNormParams p;
    p.outer = x.prod(0, axis);
    p.inner = x.prod(axis, x.rank);
    p.eps = node.attrs.get_float("epsilon", 1e-5);
    return p;
  }
};

}  // namespace

void register_layer_norm(OpRegistry& r) { r.add("LayerNormalization", std::make_unique<LayerNormOp>()); }

}  // namespace vx
