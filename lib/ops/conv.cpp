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
// An output the memory planner put over the input (the input's last reader) is computed in
// place (lib/ops/conv_in_place.h).
#include "graph/op.h"
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
  const std::string act = node.attrs.get_str("activation", "");
  if (act.empty() || act == "none") post.act = kern::Unary::identity;
  else if (act == "relu") post.act = kern::Unary::relu;
  else if (act == "leaky_relu") post.act = kern::Unary::leaky_relu;
  else if (act == "sigmoid") post.act = kern::Unary::sigmoid;
  else if (act == "tanh") post.act = kern::Unary::tanh;
  else fail(Status::invalid_argument, "unknown activation '" + act + "' (relu, leaky_relu, sigmoid, tanh)");
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
    if (x < y + out[0]->numel() && y < x + in[0]->numel()) {  // planned over its own input
      if (x != y || ctx.kernels.memory) fail(Status::internal, "a convolution's output overlaps its input");
      run_conv_in_place(ctx.kernels, p, post, in[1]->f32(), bias, y, ctx.scratch, ctx.scratch_floats,
                        &prepared_convs(ctx), ctx.packs);
      return;
    }
    prepared_convs(ctx).run(ctx.kernels, ctx.packs, p, post, false, in[1]->f32(), bias, x, residual, y);
  }
};

}  // namespace

void register_conv(OpRegistry& r) { r.add("Conv", std::make_unique<ConvOp>()); }

}  // namespace vx
