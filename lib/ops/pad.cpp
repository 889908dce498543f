// Pad: attribute pads (2*rank, ONNX order: all begins then all ends; only the spatial axes,
// from axis 2 on, may be non-zero; negative values crop), mode = constant | reflect | edge,
// value (constant mode). Inputs of rank 3 to 5.
// Slice: attributes starts, ends, optional axes (default 0..), steps (all 1); negative
// indices count from the end and out-of-range ones are clamped, as ONNX does.
#include <algorithm>

#include "graph/op.h"
#include "ops/backward_util.h"
#include "ops/registry.h"

namespace vx {
namespace {

kern::PadParams pad_params(const Node& node, const Shape& x) {
  if (x.rank < 3 || x.rank > 5)
    fail(Status::shape_mismatch, "Pad input must be [N, C, spatial...] with 1 to 3 spatial axes, got " + x.str());
  const std::vector<int64_t> v = node.attrs.get_ints("pads");
  if (static_cast<int>(v.size()) != 2 * x.rank)
    fail(Status::invalid_argument, "attribute 'pads' needs " + std::to_string(2 * x.rank) + " values, has " +
                                       std::to_string(v.size()));
  for (int i = 0; i < 2; ++i)
    if (v[i] != 0 || v[x.rank + i] != 0)
      fail(Status::unsupported, "only spatial axes (from axis 2) may be padded");
  kern::PadParams p;
  const std::string mode = node.attrs.get_str("mode", "constant");
  if (mode == "constant") p.mode = kern::PadMode::constant;
  else if (mode == "reflect") p.mode = kern::PadMode::reflect;
  else if (mode == "edge") p.mode = kern::PadMode::edge;
  else fail(Status::unsupported, "mode '" + mode + "' is not supported (constant, reflect, edge)");
  p.value = static_cast<float>(node.attrs.get_float("value", 0.0));
  p.nc = x[0] * x[1];
  const int nd = x.rank - 2, off = 3 - nd;
  for (int i = off; i < 3; ++i) {
    const int axis = 2 + i - off;
    const int64_t b = v[axis], e = v[x.rank + axis];
    p.in[i] = x[axis];
    p.begin[i] = b;
    p.out[i] = x[axis] + b + e;
    if (p.out[i] < 1)
      fail(Status::shape_mismatch, "pads crop axis " + std::to_string(axis) + " of " + x.str() + " to nothing");
    if (p.mode == kern::PadMode::reflect && (b >= x[axis] || e >= x[axis]))
      fail(Status::invalid_argument, "reflect pads must be smaller than the padded extent, axis " +
                                         std::to_string(axis) + " of " + x.str());
  }
  return p;
}

class PadOp : public OpDef {
 public:
  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    if (in.size() != 1 || in[0].rank < 0)
      fail(Status::invalid_argument, "Pad takes one input (pads and value are attributes)");
    kern::PadParams p = pad_params(node, in[0]);
    Shape o = in[0];
    for (int i = 3 - (o.rank - 2); i < 3; ++i) o[2 + i - (3 - (o.rank - 2))] = p.out[i];
    return {o};
  }
  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    ctx.kernels.pad(pad_params(node, in[0]->shape()), in[0]->f32(), out[0]->f32());
  }
  bool keeps_samples_apart(const Node& node, const BatchQuery& q) const override {
    return q.constant_operand_per_sample(node);
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, pad), VX_KERNEL_USE(t, pad_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  Gradient gradient() const override { return Gradient::rule; }
  // pads attribute (2*rank, begins then ends), spatial axes only.
  void backward(const Node& n, BackwardContext& ctx) const override {
    const Shape xs = ctx.shape(n.inputs[0]), ys = ctx.shape(n.outputs[0]);
    const std::vector<int64_t> pads = n.attrs.get_ints("pads");
    if (static_cast<int>(pads.size()) != 2 * xs.rank) fail(Status::invalid_argument, "Pad needs 2*rank pads");
    const std::string mode = n.attrs.get_str("mode", "constant");
    kern::PadParams p;
    p.mode = mode == "reflect" ? kern::PadMode::reflect : mode == "edge" ? kern::PadMode::edge : kern::PadMode::constant;
    p.nc = xs[0] * xs[1];
    const int nd = xs.rank - 2, off = 3 - nd;
    for (int i = off; i < 3; ++i) {
      const int axis = 2 + i - off;
      p.in[i] = xs[axis];
      p.out[i] = ys[axis];
      p.begin[i] = pads[axis];
    }
    Tensor dx = Tensor::empty(xs);
    ctx.kernels().pad_backward(p, ctx.dy().f32(), dx.f32());
    ctx.accumulate(0, dx);
  }
};

struct SliceRange {
  int axis;
  int64_t start, length;
};

std::vector<SliceRange> slice_ranges(const Node& node, const Shape& x) {
  const std::vector<int64_t> starts = node.attrs.get_ints("starts"), ends = node.attrs.get_ints("ends");
  std::vector<int64_t> axes = node.attrs.get_ints("axes"), steps = node.attrs.get_ints("steps");
  if (starts.empty() || starts.size() != ends.size())
    fail(Status::invalid_argument, "attributes 'starts' and 'ends' must have the same, non-zero length");
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (axes.size() != starts.size()) fail(Status::invalid_argument, "attribute 'axes' must match 'starts'");
  if (!steps.empty() && steps.size() != starts.size())
    fail(Status::invalid_argument, "attribute 'steps' must match 'starts'");
  for (int64_t s : steps)
    if (s != 1) fail(Status::unsupported, "only steps of 1 are supported");
  std::vector<SliceRange> r;
  bool seen[kMaxRank] = {};
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = axes[i];
    if (a < -x.rank || a >= x.rank)
      fail(Status::invalid_argument, "axis " + std::to_string(a) + " is outside input " + x.str());
    if (a < 0) a += x.rank;
    if (seen[a]) fail(Status::invalid_argument, "axis " + std::to_string(a) + " is sliced twice");
    seen[a] = true;
    const int64_t dim = x[static_cast<int>(a)];
    auto clamp = [dim](int64_t v) {
      if (v < 0) v += dim;
      return v < 0 ? 0 : (v > dim ? dim : v);
    };
    const int64_t s = clamp(starts[i]), e = clamp(ends[i]);
    if (e <= s)
      fail(Status::shape_mismatch, "slice [" + std::to_string(starts[i]) + ", " + std::to_string(ends[i]) +
                                       ") of axis " + std::to_string(a) + " in " + x.str() + " is empty");
    r.push_back({static_cast<int>(a), s, e - s});
  }
  return r;
}

class SliceOp : public OpDef {
 public:
  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    if (in.size() != 1 || in[0].rank < 0)
      fail(Status::invalid_argument, "Slice takes one input (starts, ends, axes are attributes)");
    Shape o = in[0];
    for (const SliceRange& s : slice_ranges(node, in[0])) o[s.axis] = s.length;
    return {o};
  }
  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    Tensor view = *in[0];
    for (const SliceRange& s : slice_ranges(node, view.shape())) view = view.slice(s.axis, s.start, s.length);
    if (ctx.kernels.copy) {  // device memory: a strided copy, the view's pointer is never dereferenced here
      kern::CopyParams cp;
      const int off = 5 - view.rank();
      for (int i = 0; i < view.rank(); ++i) {
        cp.shape[off + i] = view.dim(i);
        cp.src_stride[off + i] = view.stride(i);
        cp.dst_stride[off + i] = out[0]->stride(i);
      }
      ctx.kernels.copy(cp, view.f32(), out[0]->f32());
      return;
    }
    out[0]->copy_from(view);
  }
  bool keeps_samples_apart(const Node&, const BatchQuery&) const override { return false; }  // may slice axis 0
  // The forward pass only moves bytes (a view, copied); the backward pass has a kernel.
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, slice_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  Gradient gradient() const override { return Gradient::rule; }
  // Attributes starts, ends, axes, steps (1); ONNX clamping. Expands one sliced axis at a
  // time, from the output shape back to the input shape.
  void backward(const Node& n, BackwardContext& ctx) const override {
    const Shape xs = ctx.shape(n.inputs[0]);
    const std::vector<int64_t> starts = n.attrs.get_ints("starts");
    std::vector<int64_t> axes = n.attrs.get_ints("axes");
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    Shape cur = ctx.shape(n.outputs[0]);
    Tensor cur_g = ctx.dy();
    for (size_t i = 0; i < axes.size() && i < starts.size(); ++i) {
      const int a = norm_axis(axes[i], xs.rank);
      const int64_t len = xs[a];
      int64_t st = starts[i] < 0 ? starts[i] + len : starts[i];
      st = std::clamp<int64_t>(st, 0, len);
      Shape next = cur;
      next[a] = len;
      Tensor ng = Tensor::empty(next);
      ctx.kernels().slice_backward(cur.prod(0, a), len, cur.prod(a + 1, cur.rank), st, 1, cur[a], cur_g.f32(), ng.f32());
      cur = next;
      cur_g = ng;
    }
    ctx.accumulate(0, cur_g.clone());
  }
};

}  // namespace

void register_pad(OpRegistry& r) {
  r.add("Pad", std::make_unique<PadOp>());
  r.add("Slice", std::make_unique<SliceOp>());
}

}  // namespace vx
