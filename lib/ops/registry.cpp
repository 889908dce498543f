#include "ops/registry.h"

namespace vx {

static const OpRegistry& registry() {
  static const OpRegistry r = [] {
    OpRegistry reg;
    register_conv(reg);
    register_elementwise(reg);
    register_conv_transpose(reg);
    register_batchnorm(reg);
    register_softmax(reg);
    register_pool(reg);
    register_concat(reg);
    register_resize(reg);
    register_gemm(reg);
    register_matmul(reg);  // matops
    register_view_ops(reg);
    register_pad(reg);
    register_layout_reorder(reg);
    register_activation(reg);
    register_norm(reg);  // issue 18 (norms)
    // reductions and layer norm (issue 18)
    register_reduce(reg);
    register_layer_norm(reg);
    register_view_transform(reg);  // view ops (issue 18): Transpose, Expand, Tile, Split, Where, Cast
    return reg;
  }();
  return r;
}

void OpDef::backward(const Node& node, BackwardContext&) const {
  fail(Status::internal, "op " + node.op + " declares a Grad-CAM backward rule (Gradient::rule) but implements "
                         "no backward()");
}

const OpDef* find_op(const std::string& type) { return registry().find(type); }

std::vector<std::string> registered_ops() {
  std::vector<std::string> names;
  for (const auto& kv : registry().all()) names.push_back(kv.first);
  return names;
}

}  // namespace vx
