// Conv: ONNX semantics. Inputs X [N,C,(D,)H,W], W [OC, C/group, (kd,)kh,kw], optional B [OC].
// Attributes: strides, pads (begins then ends), dilations, group.
#include "graph/op.h"
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

class ConvOp : public OpDef {
 public:
  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    if (in.size() < 2 || in.size() > 3 || in[0].rank < 0 || in[1].rank < 0)
      fail(Status::invalid_argument, "Conv takes X, W and an optional bias");
    int64_t pad_end[3];
    kern::ConvParams p = conv_params(node, in[0], in[1], pad_end);
    if (in.size() == 3 && in[2].rank >= 0 && !(in[2].rank == 1 && in[2][0] == p.oc))
      fail(Status::shape_mismatch, "bias " + in[2].str() + " must have " + std::to_string(p.oc) + " values");
    return {spatial_shape(in[0].rank - 2, p.n, p.oc, p.out)};
  }

  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    int64_t pad_end[3];
    kern::ConvParams p = conv_params(node, in[0]->shape(), in[1]->shape(), pad_end);
    const float* bias = in.size() == 3 && in[2]->defined() ? in[2]->f32() : nullptr;
    ctx.kernels.conv(p, in[0]->f32(), in[1]->f32(), bias, out[0]->f32());
  }
};

}  // namespace

void register_conv(OpRegistry& r) { r.add("Conv", std::make_unique<ConvOp>()); }

}  // namespace vx
