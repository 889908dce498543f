// LayoutReorder: Y = X converted between memory layouts (attributes vx_layout_x = from,
// vx_layout_y = to; 0 plain, 1 blocked16). Inserted by the executor's layout pass where a
// blocked activation meets an op that reads plain (lib/exec/layout.h); same shape in and out.
#include "graph/op.h"
#include "ops/registry.h"
#include "ops/spatial.h"

namespace vx {
namespace {

class LayoutReorderOp : public OpDef {
 public:
  std::vector<Shape> infer(const Node&, const std::vector<Shape>& in) const override {
    if (in.size() != 1 || in[0].rank < 0) fail(Status::invalid_argument, "LayoutReorder takes one input");
    spatial_of(in[0], "LayoutReorder input");
    return {in[0]};
  }
  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    const Spatial s = spatial_of(in[0]->shape(), "LayoutReorder input");
    const kern::Layout from = layout_attr(node, kLayoutX, s.c, ctx.kernels);
    const kern::Layout to = layout_attr(node, kLayoutY, s.c, ctx.kernels);
    require(ctx.kernels.reorder != nullptr, Status::invalid_argument, "these kernels have no layout reorder");
    ctx.kernels.reorder(s.n, s.c, s.ext[0] * s.ext[1] * s.ext[2], from, to, in[0]->f32(), out[0]->f32());
  }
  // Only the layout pass inserts it, after batch splitting and never in a graph Grad-CAM
  // differentiates; it only moves bytes (the `reorder` entry exists in tables that take
  // blocked layouts, the reference table has none and so never gets this op).
  bool keeps_samples_apart(const Node&, const BatchQuery&) const override { return false; }
  std::vector<KernelUse> kernels(const kern::KernelTable&) const override { return {}; }
  const char* parity_test() const override { return "tests/exec/planner_test.cpp"; }
  Gradient gradient() const override { return Gradient::none; }
};

}  // namespace

void register_layout_reorder(OpRegistry& r) { r.add("LayoutReorder", std::make_unique<LayoutReorderOp>()); }

}  // namespace vx
