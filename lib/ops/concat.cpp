// Concat: ONNX semantics. Any number of inputs (>= 1) of equal rank that agree on every
// axis but `axis` (required; negative counts from the end).
#include <cstring>

#include "graph/op.h"
#include "ops/backward_util.h"
#include "ops/registry.h"
#include "ops/spatial.h"

namespace vx {
namespace {

int concat_axis(const Node& node, int rank) {
  if (!node.attrs.has("axis")) fail(Status::invalid_argument, "attribute 'axis' is required");
  const int64_t a = node.attrs.get_int("axis", 0);
  if (a < -rank || a >= rank)
    fail(Status::invalid_argument, "axis " + std::to_string(a) + " is outside rank " + std::to_string(rank));
  return static_cast<int>(a < 0 ? a + rank : a);
}

class ConcatOp : public OpDef {
 public:
  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    if (in.empty()) fail(Status::invalid_argument, "Concat needs at least one input");
    for (const auto& s : in)
      if (s.rank < 0) fail(Status::invalid_argument, "Concat inputs must not be omitted");
    const int axis = concat_axis(node, in[0].rank);
    Shape o = in[0];
    for (size_t i = 1; i < in.size(); ++i) {
      bool ok = in[i].rank == o.rank;
      for (int d = 0; ok && d < o.rank; ++d) ok = d == axis || in[i][d] == o[d];
      if (!ok)
        fail(Status::shape_mismatch, "input " + std::to_string(i) + " " + in[i].str() + " does not match " +
                                         in[0].str() + " outside axis " + std::to_string(axis));
      o[axis] += in[i][axis];
    }
    return {o};
  }

  // Each input is `outer` contiguous blocks of dim(axis) * inner elements.
  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    const Shape& o = out[0]->shape();
    const int axis = concat_axis(node, o.rank);
    const int64_t outer = o.prod(0, axis), inner = o.prod(axis + 1, o.rank);
    float* dst = out[0]->f32();
    // blocked16 along channels: per sample, each input is [C_k/16][spatial][16], so the copies
    // below are the same bytes as for plain.
    if (node.attrs.get_int(kLayoutY, 0) != 0) {
      require(axis == 1, Status::invalid_argument, "a blocked Concat must be along channels");
      for (const Tensor* t : in) layout_attr(node, kLayoutY, t->dim(1), ctx.kernels);
    }
    int64_t offset = 0;
    for (const Tensor* t : in) {
      require(t->is_contiguous(), Status::internal, "Concat expects contiguous inputs");
      const int64_t block = t->dim(axis) * inner;
      const float* src = t->f32();
      if (outer == 1 && src == dst + offset) {  // written in place by its producer (lib/exec/planner.h)
        offset += block;
        continue;
      }
      if (ctx.kernels.copy) {  // device memory: one strided copy per input
        kern::CopyParams cp;
        cp.shape[3] = outer;
        cp.shape[4] = block;
        cp.src_stride[3] = block;
        cp.dst_stride[3] = o[axis] * inner;
        cp.src_stride[4] = cp.dst_stride[4] = 1;
        ctx.kernels.copy(cp, src, dst + offset);
        offset += block;
        continue;
      }
      for (int64_t b = 0; b < outer; ++b)
        std::memcpy(dst + b * o[axis] * inner + offset, src + b * block, static_cast<size_t>(block) * sizeof(float));
      offset += block;
    }
  }

  bool keeps_samples_apart(const Node& node, const BatchQuery& q) const override {
    return q.constant_operand_per_sample(node) && q.axis(node, 1) != 0;
  }
  // The forward pass only moves bytes; the backward pass has a kernel.
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, concat_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }

  // Along channels: blocked when the output may be and every input is (per sample each
  // input is then [C_k/16][spatial][16], the same bytes as plain), every input as the output.
  void layout(const Node& n, const LayoutQuery& q, LayoutChoice& c) const override {
    if (n.outputs.size() != 1 || !n.attrs.has("axis")) return;
    auto y = q.shapes.find(n.outputs[0]);
    if (y == q.shapes.end()) return;
    const int64_t a = n.attrs.get_int("axis", 0);
    if (a != 1 && a != 1 - y->second.rank) return;
    bool all = q.can_block(n.outputs[0]);
    for (const auto& t : n.inputs) all = all && q.is_blocked(t);
    c.out = all;
    for (auto& w : c.want) w = c.out;
  }
  // The inputs are runs of the output along the concat axis.
  InPlace in_place(const Node& n, const std::vector<Shape>&, const std::vector<Shape>& out) const override {
    InPlace r;
    if (out.size() != 1) return r;
    int64_t axis = n.attrs.get_int("axis", 0);
    if (axis < 0) axis += out[0].rank;
    r.kind = InPlace::Kind::slices;
    r.axis = static_cast<int>(axis);
    return r;
  }

  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& n, BackwardContext& ctx) const override {
    const Shape ys = ctx.shape(n.outputs[0]);
    const int axis = norm_axis(n.attrs.get_int("axis", 0), ys.rank);
    std::vector<int64_t> sizes;
    std::vector<Tensor> parts;
    std::vector<float*> ptrs;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      sizes.push_back(ctx.shape(n.inputs[i])[axis]);
      parts.push_back(Tensor::empty(ctx.shape(n.inputs[i])));
    }
    for (auto& t : parts) ptrs.push_back(t.f32());
    ctx.kernels().concat_backward(ys.prod(0, axis), ys.prod(axis + 1, ys.rank), static_cast<int>(sizes.size()),
                                  sizes.data(), ctx.dy().f32(), ptrs.data());
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (ctx.wants(i)) ctx.accumulate(i, parts[i]);
  }
};

}  // namespace

void register_concat(OpRegistry& r) { r.add("Concat", std::make_unique<ConcatOp>()); }

}  // namespace vx
