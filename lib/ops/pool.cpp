// Pooling. MaxPool and AveragePool follow ONNX (kernel_shape, strides, pads begins-then-ends,
// dilations for max only, ceil_mode, count_include_pad) with PyTorch's output-size rule:
// with ceil_mode the last window must start inside the input or the begin padding.
// GlobalAveragePool / GlobalMaxPool reduce every spatial axis to 1. AdaptiveAveragePool /
// AdaptiveMaxPool (ours; attribute output_size, one int per spatial axis) follow PyTorch.
#include "graph/op.h"
#include "ops/backward_util.h"
#include "ops/registry.h"
#include "ops/spatial.h"

namespace vx {

kern::PoolParams pool_params(const Node& node, const Shape& x, kern::PoolKind kind, const std::string& prefix) {
  Spatial s = spatial_of(x, "pool input");
  kern::PoolParams p;
  p.n = s.n;
  p.c = s.c;
  p.kind = kind;
  if (!node.attrs.has(prefix + "kernel_shape"))
    fail(Status::invalid_argument, "attribute '" + prefix + "kernel_shape' is required");
  int64_t pad_end[3];
  spatial_attr(node, prefix + "kernel_shape", s.nd, 1, 1, p.k);
  spatial_attr(node, prefix + "strides", s.nd, 1, 1, p.stride);
  spatial_attr(node, prefix + "dilations", s.nd, 1, 1, p.dil);
  spatial_pads(node, s.nd, p.pad, pad_end, prefix);
  const int64_t ceil_mode = node.attrs.get_int(prefix + "ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1) fail(Status::invalid_argument, "ceil_mode must be 0 or 1");
  const int64_t cip = node.attrs.get_int(prefix + "count_include_pad", 0);
  if (cip != 0 && cip != 1) fail(Status::invalid_argument, "count_include_pad must be 0 or 1");
  p.count_include_pad = cip == 1;
  if (node.attrs.has(prefix + "auto_pad") && node.attrs.get_str(prefix + "auto_pad", "NOTSET") != "NOTSET")
    fail(Status::unsupported, "auto_pad is not supported; give explicit pads");
  for (int i = 0; i < 3; ++i) {
    p.in[i] = s.ext[i];
    if (p.k[i] < 1 || p.stride[i] < 1 || p.dil[i] < 1)
      fail(Status::invalid_argument, "kernel_shape, strides and dilations must be >= 1");
    if (kind == kern::PoolKind::avg && p.dil[i] != 1)
      fail(Status::unsupported, "AveragePool does not support dilations");
    if (kind == kern::PoolKind::avg && p.count_include_pad && p.pad[i] != pad_end[i])
      fail(Status::unsupported, "AveragePool with count_include_pad needs equal begin and end pads");
    const int64_t span = p.dil[i] * (p.k[i] - 1) + 1;
    const int64_t padded = p.in[i] + p.pad[i] + pad_end[i];
    if (padded < span)
      fail(Status::shape_mismatch, "pooling window of span " + std::to_string(span) +
                                       " is larger than the padded input " + x.str());
    const int64_t num = padded - span + (ceil_mode ? p.stride[i] - 1 : 0);
    p.out[i] = num / p.stride[i] + 1;
    if (ceil_mode && (p.out[i] - 1) * p.stride[i] >= p.in[i] + p.pad[i]) --p.out[i];
  }
  return p;
}

namespace {

class PoolOp : public OpDef {
 public:
  explicit PoolOp(kern::PoolKind kind) : kind_(kind) {}
  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    if (in.size() != 1 || in[0].rank < 0) fail(Status::invalid_argument, "pooling takes exactly one input");
    if (node.attrs.get_int("storage_order", 0) != 0) fail(Status::unsupported, "storage_order must be 0");
    kern::PoolParams p = pool_params(node, in[0], kind_);
    return {spatial_shape(in[0].rank - 2, p.n, p.c, p.out)};
  }
  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    kern::PoolParams p = pool_params(node, in[0]->shape(), kind_);
    p.layout = layout_attr(node, kLayoutX, p.c, ctx.kernels);
    ctx.kernels.pool(p, in[0]->f32(), out[0]->f32());
  }

  bool keeps_samples_apart(const Node& node, const BatchQuery& q) const override {
    return q.constant_operand_per_sample(node);
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, pool), VX_KERNEL_USE(t, pool_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  void layout(const Node& n, const LayoutQuery& q, LayoutChoice& c) const override {
    same_layout_as_input(n, q, c);
  }
  // A Conv before a MaxPool may compute in slabs, pooling each (lib/ops/conv_pool.h).
  ConvEpilogue conv_epilogue(const Node&) const override {
    ConvEpilogue e;
    if (kind_ == kern::PoolKind::max) e.kind = ConvEpilogue::Kind::max_pool;
    return e;
  }
  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& n, BackwardContext& ctx) const override {
    const Shape xs = ctx.shape(n.inputs[0]);
    const Shape ys = ctx.shape(n.outputs[0]);
    Spatial s = spatial_of(xs, "pool input");
    kern::PoolParams p;
    p.n = s.n;
    p.c = s.c;
    extents3(xs, p.in);
    extents3(ys, p.out);
    spatial_attr(n, "kernel_shape", s.nd, 1, 1, p.k);
    spatial_attr(n, "strides", s.nd, 1, 1, p.stride);
    spatial_attr(n, "dilations", s.nd, 1, 1, p.dil);
    int64_t end[3];
    spatial_pads(n, s.nd, p.pad, end);
    p.kind = kind_;
    p.count_include_pad = n.attrs.get_int("count_include_pad", 0) != 0;
    Tensor dx = Tensor::empty(xs);
    ctx.kernels().pool_backward(p, ctx.value(n.inputs[0]).f32(), ctx.dy().f32(), dx.f32());
    ctx.accumulate(0, dx);
  }

 private:
  kern::PoolKind kind_;
};

// Adaptive pooling; `global` fixes every output extent to 1.
kern::AdaptivePoolParams adaptive_params(const Node& node, const Shape& x, kern::PoolKind kind, bool global) {
  Spatial s = spatial_of(x, "pool input");
  kern::AdaptivePoolParams p;
  p.n = s.n;
  p.c = s.c;
  p.kind = kind;
  if (global) {
    for (int i = 0; i < 3; ++i) p.out[i] = 1;
  } else {
    if (!node.attrs.has("output_size")) fail(Status::invalid_argument, "attribute 'output_size' is required");
    spatial_attr(node, "output_size", s.nd, 1, 1, p.out);
  }
  for (int i = 0; i < 3; ++i) {
    p.in[i] = s.ext[i];
    if (p.out[i] < 1) fail(Status::invalid_argument, "output_size must be >= 1");
  }
  return p;
}

class AdaptivePoolOp : public OpDef {
 public:
  AdaptivePoolOp(kern::PoolKind kind, bool global) : kind_(kind), global_(global) {}
  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    if (in.size() != 1 || in[0].rank < 0) fail(Status::invalid_argument, "pooling takes exactly one input");
    kern::AdaptivePoolParams p = adaptive_params(node, in[0], kind_, global_);
    return {spatial_shape(in[0].rank - 2, p.n, p.c, p.out)};
  }
  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    ctx.kernels.adaptive_pool(adaptive_params(node, in[0]->shape(), kind_, global_), in[0]->f32(), out[0]->f32());
  }

  bool keeps_samples_apart(const Node& node, const BatchQuery& q) const override {
    return q.constant_operand_per_sample(node);
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, adaptive_pool), VX_KERNEL_USE(t, adaptive_pool_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  ExplainTraits explain_traits() const override {
    ExplainTraits e;
    e.global_pool = true;
    return e;
  }
  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& n, BackwardContext& ctx) const override {
    const Shape xs = ctx.shape(n.inputs[0]);
    kern::AdaptivePoolParams p;
    p.n = xs[0];
    p.c = xs[1];
    extents3(xs, p.in);
    extents3(ctx.shape(n.outputs[0]), p.out);
    p.kind = kind_;
    Tensor dx = Tensor::empty(xs);
    ctx.kernels().adaptive_pool_backward(p, ctx.value(n.inputs[0]).f32(), ctx.dy().f32(), dx.f32());
    ctx.accumulate(0, dx);
  }

 private:
  kern::PoolKind kind_;
  bool global_;
};

}  // namespace

void register_pool(OpRegistry& r) {
  r.add("MaxPool", std::make_unique<PoolOp>(kern::PoolKind::max));
  r.add("AveragePool", std::make_unique<PoolOp>(kern::PoolKind::avg));
  r.add("GlobalAveragePool", std::make_unique<AdaptivePoolOp>(kern::PoolKind::avg, true));
  r.add("GlobalMaxPool", std::make_unique<AdaptivePoolOp>(kern::PoolKind::max, true));
  r.add("AdaptiveAveragePool", std::make_unique<AdaptivePoolOp>(kern::PoolKind::avg, false));
  r.add("AdaptiveMaxPool", std::make_unique<AdaptivePoolOp>(kern::PoolKind::max, false));
}

}  // namespace vx
