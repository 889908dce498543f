#include "exec/batch_split.h"

#include <algorithm>
#include <set>

namespace vx {

namespace {

// Ops that never mix samples, whatever their attributes (axis-taking ops are checked below).
const std::set<std::string>& per_sample_ops() {
  static const std::set<std::string> ops = {
      "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
      "AdaptiveAveragePool", "AdaptiveMaxPool", "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid",
      "Tanh", "Add", "Sub", "Mul", "Div", "Resize", "Pad", "Identity", "Concat", "Softmax", "Flatten", "Gemm"};
  return ops;
}

int64_t axis_attr(const Node& n, int64_t def, int rank) {
  const int64_t a = n.attrs.get_int("axis", def);
  return a < 0 ? a + rank : a;
}

}  // namespace

bool samples_independent(const Graph& g, const std::map<std::string, Shape>& shapes, int64_t n) {
  auto batch_of = [&](const std::string& t) {
    auto it = shapes.find(t);
    return it == shapes.end() || it->second.rank < 1 ? -1 : it->second[0];
  };
  for (const Node& node : g.nodes) {
    if (!per_sample_ops().count(node.op)) return false;
    for (const auto& o : node.outputs)
      if (batch_of(o) != n) return false;
    const int rank = shapes.count(node.outputs.at(0)) ? shapes.at(node.outputs[0]).rank : 0;
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      const std::string& t = node.inputs[k];
      if (t.empty()) continue;
      auto w = g.weights.find(t);
      if (w == g.weights.end()) {
        if (batch_of(t) != n) return false;
      } else if (k == 1 && node.op != "Gemm" && node.op != "Conv" && node.op != "ConvTranspose") {
        // A constant operand of an elementwise op must not vary along the batch axis.
        if (w->second.rank() >= rank && w->second.dim(0) != 1) return false;
      }
    }
    if ((node.op == "Concat" || node.op == "Flatten") && axis_attr(node, 1, rank) == 0) return false;
    if (node.op == "Softmax" && axis_attr(node, 1, rank) == 0) return false;
    if (node.op == "Gemm" && (node.attrs.get_int("transA", 0) != 0 || !g.weights.count(node.inputs.at(1)))) return false;
  }
  for (const auto& in : g.inputs)
    if (batch_of(in.name) != n) return false;
  return true;
}

int64_t samples_per_chunk(const Shape& input, int64_t n, int64_t chunk_voxels) {
  const int64_t voxels = std::max<int64_t>(1, input.rank > 2 ? input.prod(2, input.rank) : 1);
  const int64_t most = std::max<int64_t>(1, std::min(n, chunk_voxels / voxels));
  for (int64_t c = most; c > 1; --c)
    if (n % c == 0) return c;
  return 1;
}

}  // namespace vx
