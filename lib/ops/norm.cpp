// InstanceNormalization and GroupNormalization (ONNX; opset 18 for GroupNormalization) and
// PRelu (issue 18). Both norms run kern.group_norm: statistics per sample over each group of
// channels (one channel for InstanceNorm), then y = act(xhat * scale + bias). They take the
// blocked16 layout a Conv before them gives, and absorb a following Relu / LeakyRelu / PRelu
// (lib/exec/fuse.h): the fused node has the attributes `activation` ("relu", "leaky_relu",
// "prelu") and `alpha`, and for "prelu" the slope as input 3.
#include "graph/op.h"
#include "ops/conv_activation.h"
#include "ops/registry.h"
#include "ops/spatial.h"

namespace vx {
namespace {

// Per-channel or scalar PRelu slope of shape `s` for an input [N, C, ...] of rank `rank`:
// the number of values (1 or C); throws for any other broadcast.
int64_t slope_count(const Shape& s, int rank, int64_t c) {
  if (s.rank < 0) fail(Status::invalid_argument, "PRelu needs a slope");
  if (s.prod(0, s.rank) == 1) return 1;
  if (s.rank > rank) fail(Status::shape_mismatch, "slope " + s.str() + " has more axes than the input");
  for (int i = 0; i < s.rank; ++i) {
    const int axis = rank - s.rank + i;
    if (axis == 1 ? s[i] != c : s[i] != 1)
      fail(Status::unsupported, "slope " + s.str() + " must be one value or one per channel (" + std::to_string(c) +
                                    " along axis 1); other broadcasts are not supported");
  }
  return c;
}

// The fused activation a norm node carries (see the file comment).
struct NormAct {
  kern::Unary act = kern::Unary::identity;
  bool prelu = false;
};
NormAct norm_act(const Node& n) {
  NormAct a;
  const std::string name = n.attrs.get_str("activation", "");
  if (name == "prelu") {
    a.prelu = true;
    return a;
  }
  a.act = conv_activation(name);
  if (a.act != kern::Unary::identity && a.act != kern::Unary::relu && a.act != kern::Unary::leaky_relu)
    fail(Status::invalid_argument, "a normalisation fuses relu, leaky_relu or prelu only, not '" + name + "'");
  return a;
}

// InstanceNormalization (groups = 0: one per channel) or GroupNormalization.
class NormOp : public OpDef {
 public:
  explicit NormOp(bool grouped) : grouped_(grouped) {}

  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    const char* op = grouped_ ? "GroupNormalization" : "InstanceNormalization";
    const NormAct a = norm_act(node);
    const size_t want = a.prelu ? 4 : 3;
    if (in.size() != want || in[0].rank < 0 || in[1].rank < 0 || in[2].rank < 0)
      fail(Status::invalid_argument, std::string(op) + " takes X, scale and bias" + (a.prelu ? " and a slope" : ""));
    const Shape& x = in[0];
    if (x.rank < 3 || x.rank > 5)
      fail(Status::shape_mismatch, "input must be [N, C, ...] with 1 to 3 spatial axes, got " + x.str());
    const int64_t c = x[1], spatial = x.prod(2, x.rank);
    const int64_t groups = this->groups(node, c);
    const int64_t per = grouped_ ? groups : c;  // accepted scale / bias sizes besides c
    for (int i = 1; i < 3; ++i)
      if (in[i].rank != 1 || (in[i][0] != c && in[i][0] != per))
        fail(Status::shape_mismatch, std::string(i == 1 ? "scale " : "bias ") + in[i].str() + " must have " +
                                         std::to_string(c) + " values (one per channel)" +
                                         (grouped_ ? " or " + std::to_string(groups) + " (one per group)" : ""));
    if (spatial * (c / groups) <= 1)
      fail(Status::invalid_argument, std::string(op) + " over a single value per " + (grouped_ ? "group" : "channel") +
                                         " (input " + x.str() + ") has no variance to normalise by");
    if (!(node.attrs.get_float("epsilon", 1e-5) >= 0)) fail(Status::invalid_argument, "epsilon must be >= 0");
    if (a.prelu) slope_count(in[3], x.rank, c);
    return {x};
  }

  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    const Shape& x = in[0]->shape();
    kern::NormParams p = params(node, x, in.size() > 3 ? in[3] : nullptr);
    p.layout = layout_attr(node, kLayoutX, x[1], ctx.kernels);
    std::vector<float> scale, bias;
    ctx.kernels.group_norm(p, in[0]->f32(), per_channel(*in[1], node, x[1], scale),
                           per_channel(*in[2], node, x[1], bias), out[0]->f32());
  }

  bool keeps_samples_apart(const Node&, const BatchQuery&) const override { return true; }
  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& node, BackwardContext& ctx) const override {
    const Shape xs = ctx.shape(node.inputs[0]);
    Tensor x = ctx.value(node.inputs[0]), sc = ctx.value(node.inputs[1]), bi = ctx.value(node.inputs[2]);
    Tensor slope;
    if (node.inputs.size() > 3) slope = ctx.value(node.inputs[3]);
    const kern::NormParams p = params(node, xs, slope.defined() ? &slope : nullptr);
    std::vector<float> scale, bias;
    Tensor dx = Tensor::empty(xs);
    ctx.kernels().group_norm_backward(p, x.f32(), per_channel(sc, node, xs[1], scale), per_channel(bi, node, xs[1], bias),
                                      ctx.dy().f32(), dx.f32());
    ctx.accumulate(0, dx);
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, group_norm), VX_KERNEL_USE(t, group_norm_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  void layout(const Node& n, const LayoutQuery& q, LayoutChoice& c) const override {
    same_layout_as_input(n, q, c);
  }
  bool absorbs_activation(const Node& n, const ConvEpilogue& e) const override {
    if (n.attrs.has("activation")) return false;
    return e.kind == ConvEpilogue::Kind::prelu ||
           (e.kind == ConvEpilogue::Kind::activation && (e.act == kern::Unary::relu || e.act == kern::Unary::leaky_relu));
  }
  ExplainTraits explain_traits() const override {
    ExplainTraits e;
    e.stage = true;
    return e;
  }

 private:
  int64_t groups(const Node& node, int64_t c) const {
    if (!grouped_) return c;
    if (!node.attrs.has("num_groups")) fail(Status::invalid_argument, "GroupNormalization needs num_groups");
    const int64_t g = node.attrs.get_int("num_groups", 0);
    if (g <= 0 || c % g != 0)
      fail(Status::invalid_argument, "num_groups " + std::to_string(g) + " does not divide the " + std::to_string(c) +
                                         " channels");
    return g;
  }
  kern::NormParams params(const Node& node, const Shape& x, const Tensor* slope) const {
    kern::NormParams p;
    p.n = x[0], p.c = x[1], p.spatial = x.prod(2, x.rank);
    p.group = x[1] / groups(node, x[1]);
    p.eps = node.attrs.get_float("epsilon", 1e-5);
    const NormAct a = norm_act(node);
    p.act = a.act;
    p.alpha = static_cast<float>(node.attrs.get_float("alpha", 0.01));
    if (a.prelu) {
      p.slope = slope->f32();
      p.slope_count = slope_count(slope->shape(), x.rank, x[1]);
    }
    return p;
  }
  // Scale or bias as c values: the tensor itself, or (GroupNormalization opset 18: one per
  // group) expanded into `buf`.
  const float* per_channel(const Tensor& t, const Node& node, int64_t c, std::vector<float>& buf) const {
    if (t.numel() == c) return t.f32();
    const int64_t per = c / t.numel();
    buf.resize(static_cast<size_t>(c));
    for (int64_t ch = 0; ch < c; ++ch) buf[ch] = t.f32()[ch / per];
    (void)node;
    return buf.data();
  }
  bool grouped_;
};

class PReluOp : public OpDef {
 public:
  std::vector<Shape> infer(const Node&, const std::vector<Shape>& in) const override {
    if (in.size() != 2 || in[0].rank < 0) fail(Status::invalid_argument, "PRelu takes X and slope");
    if (in[0].rank < 2 && in[1].prod(0, in[1].rank) != 1)
      fail(Status::shape_mismatch, "input " + in[0].str() + " has no channel axis for slope " + in[1].str());
    if (in[0].rank >= 2) slope_count(in[1], in[0].rank, in[0][1]);
    return {in[0]};
  }
  void run(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    const Shape& x = in[0]->shape();
    const int64_t n = x.rank >= 2 ? x[0] : 1, c = x.rank >= 2 ? x[1] : 1;
    ctx.kernels.prelu(n, c, x.numel() / std::max<int64_t>(1, n * c), in[1]->f32(), in[1]->numel() == 1 ? 1 : c,
                      in[0]->f32(), out[0]->f32());
  }
  bool keeps_samples_apart(const Node& node, const BatchQuery& q) const override {
    return q.constant_operand_per_sample(node);
  }
  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& node, BackwardContext& ctx) const override {
    const Shape x = ctx.shape(node.inputs[0]);
    Tensor xv = ctx.value(node.inputs[0]), slope = ctx.value(node.inputs[1]);
    const int64_t n = x.rank >= 2 ? x[0] : 1, c = x.rank >= 2 ? x[1] : 1;
    Tensor dx = Tensor::empty(x);
    ctx.kernels().prelu_backward(n, c, x.numel() / std::max<int64_t>(1, n * c), slope.f32(),
                                 slope.numel() == 1 ? 1 : c, xv.f32(), ctx.dy().f32(), dx.f32());
    ctx.accumulate(0, dx);
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, prelu), VX_KERNEL_USE(t, prelu_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  ConvEpilogue conv_epilogue(const Node&) const override {
    ConvEpilogue e;
    e.kind = ConvEpilogue::Kind::prelu;  // a Conv does not take it; a norm before it does
    return e;
  }
  ExplainTraits explain_traits() const override {
    ExplainTraits e;
    e.stage = true;
    return e;
  }
};

}  // namespace

void register_norm(OpRegistry& r) {
  r.add("InstanceNormalization", std::make_unique<NormOp>(false));
  r.add("GroupNormalization", std::make_unique<NormOp>(true));
  r.add("PRelu", std::make_unique<PReluOp>());
}

}  // namespace vx
