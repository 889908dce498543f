#include "exec/batch_split.h"

#include <algorithm>

#include "graph/op.h"

namespace vx {

bool samples_independent(const Graph& g, const std::map<std::string, Shape>& shapes, int64_t n) {
  auto batch_of = [&](const std::string& t) {
    auto it = shapes.find(t);
    return it == shapes.end() || it->second.rank < 1 ? -1 : it->second[0];
  };
  for (const Node& node : g.nodes) {
    const OpDef* op = find_op(node.op);
    if (!op) return false;
    for (const auto& o : node.outputs)
      if (batch_of(o) != n) return false;
    for (const auto& t : node.inputs)
      if (!t.empty() && !g.weights.count(t) && batch_of(t) != n) return false;
    const int rank = shapes.count(node.outputs.at(0)) ? shapes.at(node.outputs[0]).rank : 0;
    if (!op->keeps_samples_apart(node, BatchQuery{g, shapes, rank})) return false;  // the op's own rule
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
