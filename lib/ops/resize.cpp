// Resize (our semantics, see kern::ResizeParams): attributes mode = "nearest" | "linear",
// align_corners (0/1, linear only), and exactly one of
//   scales  (floats, one per spatial axis): out = floor(in * scale), ratio = 1 / scale;
//   sizes   (ints, one per spatial axis):   ratio = in / out;
//   a second input ("like"): the output takes that tensor's spatial extents, ratio = in / out
// (as F.interpolate(x, size=skip.shape[2:])).
#include <cmath>

#include "graph/op.h"
#include "ops/backward_util.h"
#include "ops/registry.h"
#include "ops/spatial.h"

namespace vx {
namespace {

kern::ResizeParams resize_params(const Node& node, const std::vector<Shape>& in) {
  if (in.empty() || in.size() > 2 || in[0].rank < 0)
    fail(Status::invalid_argument, "Resize takes X and an optional tensor whose spatial size to match");
  Spatial s = spatial_of(in[0], "Resize input");
  kern::ResizeParams p;
  p.n = s.n;
  p.c = s.c;
  const std::string mode = node.attrs.get_str("mode", "nearest");
  if (mode == "nearest") p.mode = kern::ResizeMode::nearest;
  else if (mode == "linear") p.mode = kern::ResizeMode::linear;
  else fail(Status::unsupported, "mode '" + mode + "' is not supported (nearest or linear)");
  const int64_t ac = node.attrs.get_int("align_corners", 0);
  if (ac != 0 && ac != 1) fail(Status::invalid_argument, "align_corners must be 0 or 1");
  p.align_corners = ac == 1;
  if (p.align_corners && p.mode == kern::ResizeMode::nearest)
    fail(Status::invalid_argument, "align_corners applies to linear mode only");

  const bool like = in.size() == 2 && in[1].rank >= 0;
  const int given = int(like) + int(node.attrs.has("scales")) + int(node.attrs.has("sizes"));
  if (given != 1) fail(Status::invalid_argument, "give exactly one of 'scales', 'sizes' or a second input");
  const int off = 3 - s.nd;
  for (int i = 0; i < 3; ++i) p.in[i] = s.ext[i];
  if (node.attrs.has("scales")) {
    std::vector<double> sc = node.attrs.get_floats("scales");
    if (static_cast<int>(sc.size()) != s.nd)
      fail(Status::invalid_argument, "attribute 'scales' needs " + std::to_string(s.nd) + " values, has " +
                                         std::to_string(sc.size()));
    for (int i = off; i < 3; ++i) {
      const double f = sc[i - off];
      if (!(f > 0) || !std::isfinite(f)) fail(Status::invalid_argument, "scales must be positive");
      p.out[i] = static_cast<int64_t>(std::floor(static_cast<double>(p.in[i]) * f));
      p.ratio[i] = 1.0 / f;
    }
  } else {
    if (like) {
      if (in[1].rank != in[0].rank)
        fail(Status::shape_mismatch, "size reference " + in[1].str() + " must have the rank of " + in[0].str());
      for (int i = off; i < 3; ++i) p.out[i] = in[1][2 + i - off];
    } else {
      spatial_attr(node, "sizes", s.nd, 1, 1, p.out);
    }
    for (int i = off; i < 3; ++i)
      if (p.out[i] >= 1) p.ratio[i] = static_cast<double>(p.in[i]) / static_cast<double>(p.out[i]);
  }
  for (int i = 0; i < 3; ++i)
    if (p.out[i] < 1) fail(Status::invalid_argument, "Resize of " + in[0].str() + " leaves an empty output");
  return p;
}

class ResizeOp : public OpDef {
 public:
  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    kern::ResizeParams p = resize_params(node, in);
    return {spatial_shape(in[0].rank - 2, p.n, p.c, p.out)};
  }
  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    std::vector<Shape> shapes;
    for (const Tensor* t : in) {
      Shape s = t->shape();
      if (!t->defined()) s.rank = -1;
      shapes.push_back(s);
    }
    ctx.kernels.resize(resize_params(node, shapes), in[0]->f32(), out[0]->f32());
  }
  bool keeps_samples_apart(const Node& node, const BatchQuery& q) const override {
    return q.constant_operand_per_sample(node);
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, resize), VX_KERNEL_USE(t, resize_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  Gradient gradient() const override { return Gradient::rule; }
  // mode, align_corners (0/1), scales (one per spatial axis) or sizes / a "like" input
  // (ratio = in / out).
  void backward(const Node& n, BackwardContext& ctx) const override {
    const Shape xs = ctx.shape(n.inputs[0]);
    Spatial s = spatial_of(xs, "Resize input");
    kern::ResizeParams p;
    p.n = s.n;
    p.c = s.c;
    extents3(xs, p.in);
    extents3(ctx.shape(n.outputs[0]), p.out);
    p.mode = n.attrs.get_str("mode", "nearest") == "nearest" ? kern::ResizeMode::nearest : kern::ResizeMode::linear;
    p.align_corners = n.attrs.get_int("align_corners", 0) != 0;
    const std::vector<double> scales = n.attrs.get_floats("scales");
    const int off = 3 - s.nd;
    for (int i = 0; i < 3; ++i) {
      const bool has = i >= off && static_cast<int>(scales.size()) == s.nd;
      p.ratio[i] = has ? 1.0 / scales[i - off] : static_cast<double>(p.in[i]) / static_cast<double>(p.out[i]);
    }
    Tensor dx = Tensor::empty(xs);
    ctx.kernels().resize_backward(p, ctx.dy().f32(), dx.f32());
    ctx.accumulate(0, dx);
  }
};

}  // namespace

void register_resize(OpRegistry& r) { r.add("Resize", std::make_unique<ResizeOp>()); }

}  // namespace vx
