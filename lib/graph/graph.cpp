#include "graph/graph.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "graph/op.h"

namespace vx {

int Graph::find_node(const std::string& name) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == name) return static_cast<int>(i);
  return -1;
}

std::vector<int> Graph::topological_order() const {
  std::map<std::string, int> producer;  // tensor -> node index; -1 for inputs and weights
  std::set<std::string> node_names;
  for (const auto& in : inputs) {
    if (in.name.empty()) fail(Status::invalid_argument, "graph input with an empty name");
    if (!producer.emplace(in.name, -1).second) fail(Status::invalid_argument, "graph input '" + in.name + "' declared twice");
    if (in.shape.rank < 1 || in.shape.rank > kComputeMaxRank)  // the C API's VX_MAX_RANK
      fail(Status::invalid_argument, "graph input '" + in.name + "' must have rank 1 to " +
                                         std::to_string(kComputeMaxRank));
    for (int d = 0; d < in.shape.rank; ++d)
      if (in.shape[d] < -1 || in.shape[d] == 0)
        fail(Status::invalid_argument, "graph input '" + in.name + "' has an invalid dimension " + in.shape.str());
  }
  for (const auto& w : weights)
    if (!producer.emplace(w.first, -1).second)
      fail(Status::invalid_argument, "tensor '" + w.first + "' is both a graph input and a weight");
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    if (n.name.empty()) fail(Status::invalid_argument, "node " + std::to_string(i) + " has no name");
    if (!node_names.insert(n.name).second) fail(Status::invalid_argument, "node name '" + n.name + "' used twice");
    if (!find_op(n.op)) fail(Status::unsupported, "node '" + n.name + "': unknown op '" + n.op + "'");
    if (n.outputs.empty()) fail(Status::invalid_argument, "node '" + n.name + "' has no outputs");
    for (const auto& o : n.outputs) {
      if (o.empty()) fail(Status::invalid_argument, "node '" + n.name + "' has an unnamed output");
      if (!producer.emplace(o, static_cast<int>(i)).second)
        fail(Status::invalid_argument, "node '" + n.name + "': tensor '" + o + "' is produced twice");
    }
  }
  // Kahn's algorithm; nodes become ready when all their producers have run.
  std::vector<int> pending(nodes.size(), 0);
  std::vector<std::vector<int>> consumers(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& in : nodes[i].inputs) {
      if (in.empty()) continue;
      auto it = producer.find(in);
      if (it == producer.end())
        fail(Status::invalid_argument, "node '" + nodes[i].name + "': input '" + in + "' is not produced by any node, input or weight");
      if (it->second >= 0) {
        ++pending[i];
        consumers[it->second].push_back(static_cast<int>(i));
      }
    }
  }
  std::vector<int> order, ready;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (pending[i] == 0) ready.push_back(static_cast<int>(i));
  // Keep file order among ready nodes, so execution follows the order the model lists.
  while (!ready.empty()) {
    auto it = std::min_element(ready.begin(), ready.end());
    int i = *it;
    ready.erase(it);
    order.push_back(i);
    for (int c : consumers[i])
      if (--pending[c] == 0) ready.push_back(c);
  }
  if (order.size() != nodes.size()) {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (pending[i] > 0) fail(Status::invalid_argument, "the graph has a cycle through node '" + nodes[i].name + "'");
  }
  if (outputs.empty()) fail(Status::invalid_argument, "the graph declares no outputs");
  for (const auto& o : outputs)
    if (!producer.count(o)) fail(Status::invalid_argument, "graph output '" + o + "' is not produced by any node");
  return order;
}

std::map<std::string, Shape> infer_shapes(const Graph& g, const std::vector<int>& order,
                                          const std::vector<Shape>& input_shapes) {
  if (input_shapes.size() != g.inputs.size())
    fail(Status::invalid_argument, "the model takes " + std::to_string(g.inputs.size()) + " inputs, got " +
                                       std::to_string(input_shapes.size()));
  std::map<std::string, Shape> shapes;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const Shape& want = g.inputs[i].shape;
    const Shape& got = input_shapes[i];
    bool ok = got.rank == want.rank;
    for (int d = 0; ok && d < want.rank; ++d) ok = got[d] > 0 && (want[d] == -1 || want[d] == got[d]);
    if (!ok)
      fail(Status::shape_mismatch, "input '" + g.inputs[i].name + "' must have shape " + want.str() +
                                       " (-1: any), got " + got.str());
    shapes[g.inputs[i].name] = got;
  }
  for (const auto& w : g.weights) shapes[w.first] = w.second.shape();
  for (int idx : order) {
    const Node& n = g.nodes[idx];
    std::vector<Shape> in;
    for (const auto& name : n.inputs) {
      if (name.empty()) {
        Shape none;
        none.rank = -1;
        in.push_back(none);
      } else {
        in.push_back(shapes.at(name));
      }
    }
    std::vector<Shape> out;
    const OpDef* op = find_op(n.op);
    // Ranks above 5 only through view and transpose ops (OpDef::max_rank).
    auto check_rank = [&](const Shape& s, const std::string& t) {
      if (s.rank > op->max_rank())
        fail(Status::unsupported, "node '" + n.name + "' (" + n.op + "): tensor '" + t + "' has rank " +
                                      std::to_string(s.rank) + "; this op takes rank <= " +
                                      std::to_string(op->max_rank()) + " (only view and transpose ops take up to " +
                                      std::to_string(kMaxRank) + ")");
    };
    for (size_t k = 0; k < in.size(); ++k) check_rank(in[k], n.inputs[k]);
    try {
      out = op->infer(n, in);
    } catch (const Error& e) {
      fail(e.status(), "node '" + n.name + "' (" + n.op + "): " + e.what());
    }
    for (size_t k = 0; k < out.size() && k < n.outputs.size(); ++k) check_rank(out[k], n.outputs[k]);
    if (out.size() != n.outputs.size())
      fail(Status::invalid_argument, "node '" + n.name + "' (" + n.op + ") must have " +
                                         std::to_string(out.size()) + " outputs");
    for (size_t k = 0; k < out.size(); ++k) {
      for (int d = 0; d < out[k].rank; ++d)
        if (out[k][d] <= 0)
          fail(Status::shape_mismatch, "node '" + n.name + "' (" + n.op + ") would produce an empty or negative shape " + out[k].str());
      shapes[n.outputs[k]] = out[k];
    }
  }
  for (const auto& o : g.outputs) {  // the C API's VX_MAX_RANK
    auto it = shapes.find(o);
    if (it != shapes.end() && it->second.rank > kComputeMaxRank)
      fail(Status::unsupported, "graph output '" + o + "' has rank " + std::to_string(it->second.rank) +
                                    "; outputs take rank <= " + std::to_string(kComputeMaxRank));
  }
  return shapes;
}

}  // namespace vx
