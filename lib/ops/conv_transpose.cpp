// ConvTranspose: ONNX semantics. Inputs X [N,C,(D,)H,W], W [C, OC/group, (kd,)kh,kw], optional
// B [OC]. Attributes: strides, pads (begins then ends), dilations, group, output_padding.
// out = (in-1)*stride - pad_begin - pad_end + dilation*(k-1) + output_padding + 1.
#include "graph/op.h"
#include "ops/backward_util.h"
#include "ops/conv_prepared.h"
#include "ops/registry.h"
#include "ops/spatial.h"

namespace vx {
namespace {

kern::ConvParams conv_transpose_params(const Node& node, const Shape& x, const Shape& w) {
  Spatial s = spatial_of(x, "ConvTranspose input");
  if (w.rank != x.rank)
    fail(Status::shape_mismatch, "weight " + w.str() + " does not match input " + x.str());
  kern::ConvParams p;
  p.n = s.n;
  p.ic = s.c;
  p.groups = node.attrs.get_int("group", 1);
  if (p.groups < 1 || p.ic % p.groups)
    fail(Status::invalid_argument,
         "group " + std::to_string(p.groups) + " does not divide input channels " + std::to_string(p.ic));
  if (w[0] != p.ic)
    fail(Status::shape_mismatch, "weight " + w.str() + " expects " + std::to_string(w[0]) +
                                     " input channels, input has " + std::to_string(p.ic));
  p.oc = w[1] * p.groups;
  const int off = 3 - s.nd;
  for (int i = 0; i < 3; ++i) {
    p.in[i] = s.ext[i];
    p.k[i] = i < off ? 1 : w[2 + i - off];
  }
  int64_t pad_end[3], out_pad[3];
  spatial_attr(node, "strides", s.nd, 1, 1, p.stride);
  spatial_attr(node, "dilations", s.nd, 1, 1, p.dil);
  spatial_attr(node, "output_padding", s.nd, 0, 0, out_pad);
  spatial_pads(node, s.nd, p.pad, pad_end);
  if (node.attrs.has("output_shape"))
    fail(Status::unsupported, "attribute 'output_shape' is not supported; give pads and output_padding");
  for (int i = 0; i < 3; ++i) {
    if (p.stride[i] < 1 || p.dil[i] < 1) fail(Status::invalid_argument, "strides and dilations must be >= 1");
    if (out_pad[i] < 0 || (out_pad[i] >= p.stride[i] && out_pad[i] >= p.dil[i]))
      fail(Status::invalid_argument, "output_padding must be >= 0 and smaller than the stride or the dilation");
    p.out[i] = (p.in[i] - 1) * p.stride[i] - p.pad[i] - pad_end[i] + p.dil[i] * (p.k[i] - 1) + out_pad[i] + 1;
    if (p.out[i] < 1)
      fail(Status::shape_mismatch, "pads leave no output for input " + x.str() + " and weight " + w.str());
  }
  return p;
}

class ConvTransposeOp : public OpDef {
 public:
  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    if (in.size() < 2 || in.size() > 3 || in[0].rank < 0 || in[1].rank < 0)
      fail(Status::invalid_argument, "ConvTranspose takes X, W and an optional bias");
    kern::ConvParams p = conv_transpose_params(node, in[0], in[1]);
    if (in.size() == 3 && in[2].rank >= 0 && !(in[2].rank == 1 && in[2][0] == p.oc))
      fail(Status::shape_mismatch, "bias " + in[2].str() + " must have " + std::to_string(p.oc) + " values");
    return {spatial_shape(in[0].rank - 2, p.n, p.oc, p.out)};
  }

  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    kern::ConvParams p = conv_transpose_params(node, in[0]->shape(), in[1]->shape());
    p.src_layout = layout_attr(node, kLayoutX, p.ic, ctx.kernels);
    p.dst_layout = layout_attr(node, kLayoutY, p.oc, ctx.kernels);
    const float* bias = in.size() == 3 && in[2]->defined() ? in[2]->f32() : nullptr;
    prepared_convs(ctx).run(ctx.kernels, ctx.packs, p, kern::ConvPostOps{}, true, in[1]->f32(), bias, in[0]->f32(),
                            nullptr, out[0]->f32());
  }

  bool keeps_samples_apart(const Node&, const BatchQuery&) const override { return true; }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, conv_transpose), VX_KERNEL_USE(t, conv_transpose_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  ExplainTraits explain_traits() const override {
    ExplainTraits e;
    e.feature_map = true;
    return e;
  }
  // Blocked only from a blocked input (one group); otherwise any input layout.
  void layout(const Node& n, const LayoutQuery& q, LayoutChoice& c) const override {
    c.records_input_layout = true;
    if (n.outputs.size() != 1) return;
    c.out = n.attrs.get_int("group", 1) == 1 && q.can_block(n.outputs[0]) && q.is_blocked(n.inputs[0]);
    c.want[0] = c.out ? 1 : kAnyLayout;
  }
  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& n, BackwardContext& ctx) const override {
    const kern::ConvParams p =
        conv_geometry(n, ctx.shape(n.inputs[0]), ctx.shape(n.inputs[1]), ctx.shape(n.outputs[0]));
    Tensor dx = Tensor::empty(ctx.shape(n.inputs[0]));
    Tensor w = ctx.value(n.inputs[1]);
    ctx.kernels().conv_transpose_backward(p, ctx.dy().f32(), w.f32(), dx.f32());
    ctx.accumulate(0, dx);
  }
};

}  // namespace

void register_conv_transpose(OpRegistry& r) { r.add("ConvTranspose", std::make_unique<ConvTransposeOp>()); }

}  // namespace vx
