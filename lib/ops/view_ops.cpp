// Ops whose output is the input's storage under another shape: Flatten (axis, default 1),
// Dropout (inference identity; only the first output), Identity, Reshape (attribute `shape`,
// ONNX rules: 0 copies the input's extent, one -1 takes the rest). The executor gives them
// a view (alias_input() == 0) and never calls run() then; run() copies for any other caller.
#include "graph/op.h"
#include "ops/registry.h"

namespace vx {
namespace {

enum class ViewKind { flatten, dropout, identity, reshape };

Shape reshape_target(const Node& node, const Shape& x) {
  if (!node.attrs.has("shape")) fail(Status::invalid_argument, "attribute 'shape' is required");
  if (node.attrs.get_int("allowzero", 0) != 0) fail(Status::unsupported, "allowzero must be 0");
  const std::vector<int64_t> v = node.attrs.get_ints("shape");
  if (v.empty() || static_cast<int>(v.size()) > kMaxRank)
    fail(Status::invalid_argument, "attribute 'shape' needs 1 to " + std::to_string(kMaxRank) + " values");
  Shape o;
  o.rank = static_cast<int>(v.size());
  int infer_at = -1;
  int64_t known = 1;
  for (int i = 0; i < o.rank; ++i) {
    if (v[i] == -1) {
      if (infer_at >= 0) fail(Status::invalid_argument, "attribute 'shape' has more than one -1");
      infer_at = i;
      continue;
    }
    if (v[i] == 0) {
      if (i >= x.rank) fail(Status::invalid_argument, "shape value 0 at an axis the input " + x.str() + " lacks");
      o[i] = x[i];
    } else if (v[i] > 0) {
      o[i] = v[i];
    } else {
      fail(Status::invalid_argument, "shape values must be >= -1");
    }
    known *= o[i];
  }
  if (infer_at >= 0) {
    if (known == 0 || x.numel() % known)
      fail(Status::shape_mismatch, "cannot reshape " + x.str() + " with shape attribute of " +
                                       std::to_string(known) + " known elements");
    o[infer_at] = x.numel() / known;
  }
  if (o.numel() != x.numel()) fail(Status::shape_mismatch, "cannot reshape " + x.str() + " to " + o.str());
  return o;
}

class ViewOp : public OpDef {
 public:
  explicit ViewOp(ViewKind kind) : kind_(kind) {}
  int alias_input() const override { return 0; }
  int max_rank() const override { return kMaxRank; }  // views move no elements: any rank

  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    const size_t max_in = kind_ == ViewKind::dropout ? 3 : 1;
    if (in.empty() || in.size() > max_in || in[0].rank < 0)
      fail(Status::invalid_argument, kind_ == ViewKind::dropout ? "Dropout takes one data input"
                                                                 : "takes exactly one input");
    if (node.outputs.size() > 1) fail(Status::unsupported, "only the first output is supported");
    const Shape& x = in[0];
    switch (kind_) {
      case ViewKind::flatten: {
        const int64_t a = node.attrs.get_int("axis", 1);
        if (a < -x.rank || a > x.rank)
          fail(Status::invalid_argument, "axis " + std::to_string(a) + " is outside input " + x.str());
        const int axis = static_cast<int>(a < 0 ? a + x.rank : a);
        return {Shape{x.prod(0, axis), x.prod(axis, x.rank)}};
      }
      case ViewKind::dropout:
        if (node.attrs.get_int("training_mode", 0) != 0) fail(Status::unsupported, "training_mode must be 0");
        return {x};
      case ViewKind::identity: return {x};
      case ViewKind::reshape: return {reshape_target(node, x)};
    }
    return {x};
  }

  void run(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext&) const override {
    out[0]->copy_from(in[0]->clone().reshape(out[0]->shape()));
  }

  // Flatten keeps samples apart unless it flattens from axis 0; Identity does; Dropout and
  // Reshape are not known to (a Reshape may move samples).
  bool keeps_samples_apart(const Node& node, const BatchQuery& q) const override {
    if (kind_ == ViewKind::flatten) return q.constant_operand_per_sample(node) && q.axis(node, 1) != 0;
    return kind_ == ViewKind::identity && q.constant_operand_per_sample(node);
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, copy_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  ExplainTraits explain_traits() const override {
    ExplainTraits e;
    e.stage = kind_ == ViewKind::identity || kind_ == ViewKind::dropout;
    return e;
  }
  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& n, BackwardContext& ctx) const override {  // the same values under another shape
    Tensor dx = Tensor::empty(ctx.shape(n.inputs[0]));
    ctx.kernels().copy_backward(dx.numel(), ctx.dy().f32(), dx.f32());
    ctx.accumulate(0, dx);
  }

 private:
  ViewKind kind_;
};

}  // namespace

void register_view_ops(OpRegistry& r) {
  r.add("Flatten", std::make_unique<ViewOp>(ViewKind::flatten));
  r.add("Dropout", std::make_unique<ViewOp>(ViewKind::dropout));
  r.add("Identity", std::make_unique<ViewOp>(ViewKind::identity));
  r.add("Reshape", std::make_unique<ViewOp>(ViewKind::reshape));
}

}  // namespace vx
