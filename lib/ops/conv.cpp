// Conv: ONNX semantics. Inputs X [N,C,(D,)H,W], W [OC, C/group, (kd,)kh,kw], optional B [OC].
// Attributes: strides, pads (begins then ends), dilations, group.
// Fused extensions (written by fuse_graph, lib/exec/fuse.h; valid in any graph):
//   optional 4th input R with the output's shape (a residual, added after the bias) and
//   attribute `activation` = "relu" | "leaky_relu" (with `alpha`, default 0.01) | "sigmoid" |
//   "tanh", applied last:  Y = act(conv(X) + B + R).
//   a max pooling of that result (attributes vx_pool_kernel_shape, vx_pool_strides, vx_pool_pads,
//   vx_pool_dilations, vx_pool_ceil_mode as MaxPool's; no residual then): output 0 is the
//   pooled tensor and output 1 scratch [N, floats per sample] the op computes slab by slab in
//   (lib/ops/conv_pool.h), so the convolution's whole output is never stored.
// An output the memory planner put over the input (the input's last reader; in_place() offers
// it, RunContext::in_place_input says it was granted) is computed in place
// (lib/ops/conv_in_place.h); one put over the residual needs nothing (the kernels read each
// residual value before they write its place).
#include "graph/op.h"
#include "ops/backward_util.h"
#include "ops/conv_activation.h"
#include "ops/conv_in_place.h"
#include "ops/conv_pool.h"
#include "ops/conv_prepared.h"
#include "ops/registry.h"
#include "ops/spatial.h"

namespace vx {
namespace {

kern::ConvParams conv_params(const Node& node, const Shape& x, const Shape& w, int64_t pad_end[3]) {
  Spatial s = spatial_of(x, "conv input");
  if (w.rank != x.rank) fail(Status::shape_mismatch, "weight " + w.str() + " does not match input " + x.str());
  kern::ConvParams p;
  p.n = s.n;
  p.ic = s.c;
  p.oc = w[0];
  p.groups = node.attrs.get_int("group", 1);
  if (p.groups < 1 || p.ic % p.groups || p.oc % p.groups)
    fail(Status::invalid_argument, "group " + std::to_string(p.groups) + " does not divide channels " +
                                       std::to_string(p.ic) + " -> " + std::to_string(p.oc));
  if (w[1] * p.groups != p.ic)
    fail(Status::shape_mismatch, "weight " + w.str() + " expects " + std::to_string(w[1] * p.groups) +
                                     " input channels, input has " + std::to_string(p.ic));
  const int off = 3 - s.nd;
  for (int i = 0; i < 3; ++i) {
    p.in[i] = s.ext[i];
    p.k[i] = i < off ? 1 : w[2 + i - off];
  }
  spatial_attr(node, "strides", s.nd, 1, 1, p.stride);
  spatial_attr(node, "dilations", s.nd, 1, 1, p.dil);
  spatial_pads(node, s.nd, p.pad, pad_end);
  for (int i = 0; i < 3; ++i) {
    if (p.stride[i] < 1 || p.dil[i] < 1) fail(Status::invalid_argument, "strides and dilations must be >= 1");
    const int64_t span = p.dil[i] * (p.k[i] - 1) + 1;
    const int64_t padded = p.in[i] + p.pad[i] + pad_end[i];
    if (padded < span)
      fail(Status::shape_mismatch, "kernel " + w.str() + " is larger than the padded input " + x.str());
    p.out[i] = (padded - span) / p.stride[i] + 1;
  }
  return p;
}

kern::ConvPostOps post_ops(const Node& node, bool has_residual) {
  kern::ConvPostOps post;
  post.has_residual = has_residual;
  post.act = conv_activation(node.attrs.get_str("activation", ""));
  post.alpha = static_cast<float>(node.attrs.get_float("alpha", 0.01));
  return post;
}

constexpr const char* kPool = "vx_pool_";

bool has_pool(const Node& node) { return node.attrs.has(std::string(kPool) + "kernel_shape"); }

// The fused max pooling over the convolution's output `y`.
kern::PoolParams fused_pool(const Node& node, const Shape& y, bool has_residual) {
  if (has_residual) fail(Status::invalid_argument, "a Conv with a fused pooling takes no residual");
  return pool_params(node, y, kern::PoolKind::max, kPool);
}

class ConvOp : public OpDef {
 public:
  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    if (in.size() < 2 || in.size() > 4 || in[0].rank < 0 || in[1].rank < 0)
      fail(Status::invalid_argument, "Conv takes X, W, an optional bias and an optional residual");
    int64_t pad_end[3];
    kern::ConvParams p = conv_params(node, in[0], in[1], pad_end);
    if (in.size() >= 3 && in[2].rank >= 0 && !(in[2].rank == 1 && in[2][0] == p.oc))
      fail(Status::shape_mismatch, "bias " + in[2].str() + " must have " + std::to_string(p.oc) + " values");
    const Shape y = spatial_shape(in[0].rank - 2, p.n, p.oc, p.out);
    if (in.size() == 4 && in[3].rank >= 0 && in[3] != y)
      fail(Status::shape_mismatch, "residual " + in[3].str() + " must have the output's shape " + y.str());
    post_ops(node, false);  // checks the activation attribute
    if (!has_pool(node)) return {y};
    const kern::PoolParams q = fused_pool(node, y, in.size() == 4 && in[3].rank >= 0);
    // Sized for plain layouts: a blocked tensor has fewer separate runs to gather, never more.
    const ConvPoolPlan plan = plan_conv_pool(p, q);
    return {spatial_shape(y.rank - 2, q.n, q.c, q.out), Shape{p.n, plan.scratch_per_sample()}};
  }

  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    int64_t pad_end[3];
    kern::ConvParams p = conv_params(node, in[0]->shape(), in[1]->shape(), pad_end);
    const float* bias = in.size() >= 3 && in[2]->defined() ? in[2]->f32() : nullptr;
    const float* residual = in.size() == 4 && in[3]->defined() ? in[3]->f32() : nullptr;
    const kern::ConvPostOps post = post_ops(node, residual != nullptr);
    p.src_layout = layout_attr(node, kLayoutX, p.ic, ctx.kernels);
    p.dst_layout = layout_attr(node, kLayoutY, p.oc, ctx.kernels);
    if (has_pool(node)) {
      // Slabs are gathered and scattered on the host; fuse_graph only fuses for host kernels.
      if (ctx.kernels.memory) fail(Status::unsupported, "a Conv with a fused pooling runs on host kernels only");
      kern::PoolParams q = fused_pool(node, spatial_shape(in[0]->shape().rank - 2, p.n, p.oc, p.out), residual != nullptr);
      q.layout = p.dst_layout;
      const ConvPoolPlan plan = plan_conv_pool(p, q);
      if (out.size() != 2 || out[1]->numel() < p.n * plan.scratch_per_sample())
        fail(Status::internal, "the fused pooling's scratch is smaller than its plan");
      run_conv_pool(ctx.kernels, plan, p, post, q, in[0]->f32(), in[1]->f32(), bias, out[0]->f32(), out[1]->f32(),
                    &prepared_convs(ctx), ctx.packs);
      return;
    }
    const float* x = in[0]->f32();
    float* y = out[0]->f32();
    if (ctx.in_place_input == 0) {  // planned over its own input
      if (x != y || ctx.kernels.memory) fail(Status::internal, "a convolution planned over its input got other bytes");
      run_conv_in_place(ctx.kernels, p, post, in[1]->f32(), bias, y, ctx.scratch, ctx.scratch_floats,
                        &prepared_convs(ctx), ctx.packs);
      return;
    }
    if (x < y + out[0]->numel() && y < x + in[0]->numel())
      fail(Status::internal, "a convolution's output overlaps its input without a plan for it");
    prepared_convs(ctx).run(ctx.kernels, ctx.packs, p, post, false, in[1]->f32(), bias, x, residual, y);
  }

  bool keeps_samples_apart(const Node&, const BatchQuery&) const override { return true; }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, conv), VX_KERNEL_USE(t, conv_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  ExplainTraits explain_traits() const override {
    ExplainTraits e;
    e.feature_map = true;
    return e;
  }

  // Blocked output for one group; any input layout (the kernels reorder); the residual in
  // the output's layout. A fused pooling's scratch (output 1) has no layout.
  void layout(const Node& n, const LayoutQuery& q, LayoutChoice& c) const override {
    c.records_input_layout = true;
    if (n.outputs.size() != 1 && n.outputs.size() != 2) return;
    c.out = n.attrs.get_int("group", 1) == 1 && q.can_block(n.outputs[0]);
    c.want[0] = kAnyLayout;
    if (n.inputs.size() == 4 && !n.inputs[3].empty()) c.want[3] = c.out;
  }

  // Over the residual, elementwise; else over the input when it meets conv_in_place.h's
  // conditions: one sample, strides 1, the same spatial extents, no more output than input
  // channels, one layout.
  InPlace in_place(const Node& n, const std::vector<Shape>& in, const std::vector<Shape>& out) const override {
    InPlace r;
    if (n.inputs.size() >= 4 && !n.inputs[3].empty()) {
      r.kind = InPlace::Kind::elementwise;
      r.input = 3;
      return r;
    }
    if (n.inputs.size() < 2 || n.inputs[0].empty() || out.size() != 1) return r;
    if (n.attrs.get_int(kLayoutX, 0) != n.attrs.get_int(kLayoutY, 0)) return r;
    for (int64_t v : n.attrs.get_ints("strides"))
      if (v != 1) return r;
    const Shape& xs = in[0];
    const Shape& ys = out[0];
    bool same_grid = xs.rank == ys.rank && (xs.rank == 4 || xs.rank == 5) && xs[0] == 1 && ys[0] == 1 && ys[1] <= xs[1];
    for (int d = 2; same_grid && d < xs.rank; ++d) same_grid = xs[d] == ys[d];
    if (!same_grid) return r;
    const Shape& w = in[1];
    const Spatial s = spatial_of(xs, "conv input");
    kern::ConvParams p;
    p.ic = xs[1];
    p.oc = ys[1];
    int64_t pad_end[3];
    spatial_pads(n, s.nd, p.pad, pad_end);
    spatial_attr(n, "dilations", s.nd, 1, 1, p.dil);
    const int off = 3 - s.nd;
    for (int i = 0; i < 3; ++i) p.in[i] = p.out[i] = s.ext[i], p.k[i] = i < off ? 1 : w[2 + i - off];
    p.src_layout = p.dst_layout = n.attrs.get_int(kLayoutX, 0) == 1 ? kern::Layout::blocked16 : kern::Layout::plain;
    r.kind = InPlace::Kind::gathered;
    r.input = 0;
    r.scratch_floats = conv_in_place_scratch_floats(p);
    return r;
  }

  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& n, BackwardContext& ctx) const override {
    const kern::ConvParams p =
        conv_geometry(n, ctx.shape(n.inputs[0]), ctx.shape(n.inputs[1]), ctx.shape(n.outputs[0]));
    Tensor dx = Tensor::empty(ctx.shape(n.inputs[0]));
    Tensor w = ctx.value(n.inputs[1]);
    ctx.kernels().conv_backward(p, ctx.dy().f32(), w.f32(), dx.f32());
    ctx.accumulate(0, dx);
  }
};

}  // namespace

void register_conv(OpRegistry& r) { r.add("Conv", std::make_unique<ConvOp>()); }

}  // namespace vx
