#include "exec/fuse.h"

#include <map>
#include <optional>
#include <set>

#include "core/error.h"
#include "graph/op.h"
#include "ops/conv_activation.h"

namespace vx {

namespace {

// Tensor shapes with every run-time (-1) input dimension replaced by `probe`; nullopt
// when inference fails for that probe.
std::optional<std::map<std::string, Shape>> probe_shapes(const Graph& g, int64_t probe) {
  try {
    std::vector<Shape> in;
    for (const auto& i : g.inputs) {
      Shape s = i.shape;
      for (int d = 0; d < s.rank; ++d)
        if (s[d] < 0) s[d] = probe;
      in.push_back(s);
    }
    return infer_shapes(g, g.topological_order(), in);
  } catch (const Error&) {
    return std::nullopt;
  }
}

bool same_shape(const std::vector<std::optional<std::map<std::string, Shape>>>& probes, const std::string& a,
                const std::string& b) {
  for (const auto& p : probes) {
    if (!p) return false;
    auto ia = p->find(a), ib = p->find(b);
    if (ia == p->end() || ib == p->end() || ia->second != ib->second) return false;
  }
  return true;
}

// A tensor name not used in `g`, made from `base`.
std::string fresh_name(const Graph& g, const std::string& base) {
  std::set<std::string> used;
  for (const auto& i : g.inputs) used.insert(i.name);
  for (const auto& w : g.weights) used.insert(w.first);
  for (const auto& n : g.nodes) used.insert(n.outputs.begin(), n.outputs.end());
  std::string name = base;
  for (int i = 1; used.count(name); ++i) name = base + "#" + std::to_string(i);
  return name;
}

// Copies MaxPool `pool`'s attributes into `conv` as vx_pool_* (lib/ops/conv.cpp); false when
// it has one the fused op does not take or one of the wrong kind (MaxPool then reports it).
bool take_pool_attrs(Node& conv, const Node& pool) {
  try {
    if (pool.attrs.get_int("storage_order", 0) != 0 || pool.attrs.get_str("auto_pad", "NOTSET") != "NOTSET") return false;
    for (const char* a : {"kernel_shape", "strides", "pads", "dilations", "ceil_mode"})
      if (pool.attrs.has(a)) conv.attrs.set_ints(std::string("vx_pool_") + a, pool.attrs.get_ints(a));
  } catch (const Error&) {
    return false;
  }
  return true;
}

// One rewrite; false when none applies.
bool fuse_once(Graph& g, const std::set<std::string>& keep,
               const std::vector<std::optional<std::map<std::string, Shape>>>& probes, bool slab_pools) {
  std::map<std::string, int> uses;
  std::map<std::string, int> consumer;  // tensor -> the (last) node that reads it
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& in : g.nodes[i].inputs)
      if (!in.empty()) ++uses[in], consumer[in] = static_cast<int>(i);
  for (const auto& o : g.outputs) ++uses[o];

  // A node that applies an activation itself (OpDef::absorbs_activation: InstanceNorm,
  // GroupNorm) takes the activation that is its output's only consumer.
  for (size_t pi = 0; pi < g.nodes.size(); ++pi) {
    Node& prod = g.nodes[pi];
    if (prod.outputs.size() != 1) continue;
    const std::string t = prod.outputs[0];  // a copy: prod.outputs is replaced below
    if (uses[t] != 1 || keep.count(t) || !consumer.count(t)) continue;
    const int next_index = consumer[t];
    const OpDef* prod_op = find_op(prod.op);
    const Node& next = g.nodes[next_index];
    const OpDef* next_op = find_op(next.op);
    if (!prod_op || !next_op || next.outputs.size() != 1 || next.inputs.empty() || next.inputs[0] != t) continue;
    const ConvEpilogue epi = next_op->conv_epilogue(next);
    if (!prod_op->absorbs_activation(prod, epi)) continue;
    if (epi.kind == ConvEpilogue::Kind::prelu) {
      if (next.inputs.size() != 2 || next.inputs[1].empty() || !g.weights.count(next.inputs[1])) continue;
      prod.attrs.set_str("activation", "prelu");
      prod.inputs.push_back(next.inputs[1]);
    } else {
      prod.attrs.set_str("activation", conv_activation_name(epi.act));
      if (epi.has_alpha) prod.attrs.set_float("alpha", epi.alpha);
    }
    prod.outputs = next.outputs;
    g.nodes.erase(g.nodes.begin() + next_index);
    return true;
  }

  for (size_t ci = 0; ci < g.nodes.size(); ++ci) {
    Node& conv = g.nodes[ci];
    // The absorber is the Conv: the fused attributes below are its format (lib/ops/conv.cpp).
    if (conv.op != "Conv" || conv.outputs.size() != 1) continue;
    const std::string& t = conv.outputs[0];
    if (uses[t] != 1 || keep.count(t) || !consumer.count(t)) continue;
    const int ni = consumer[t];
    const Node& next = g.nodes[ni];
    const bool has_residual = conv.inputs.size() == 4 && !conv.inputs[3].empty();
    const OpDef* next_op = find_op(next.op);
    if (!next_op) continue;
    const ConvEpilogue epi = next_op->conv_epilogue(next);  // the consumer's own rule (OpDef::conv_epilogue)
    const char* act = epi.kind == ConvEpilogue::Kind::activation ? conv_activation_name(epi.act) : nullptr;
    if (epi.kind == ConvEpilogue::Kind::max_pool) {
      if (!slab_pools || has_residual || next.outputs.size() != 1 || next.inputs.size() != 1) continue;
      Node fused = conv;
      if (!take_pool_attrs(fused, next)) continue;
      fused.outputs = {next.outputs[0], fresh_name(g, next.outputs[0] + "#conv_slabs")};
      conv = std::move(fused);
      g.nodes.erase(g.nodes.begin() + ni);
      return true;
    }
    if (conv.attrs.has("activation")) continue;
    if (act) {
      conv.attrs.set_str("activation", act);
      if (epi.has_alpha) conv.attrs.set_float("alpha", epi.alpha);
    } else if (epi.kind == ConvEpilogue::Kind::residual_add && !has_residual && next.inputs.size() == 2) {
      const std::string& other = next.inputs[0] == t ? next.inputs[1] : next.inputs[0];
      if (other == t || !same_shape(probes, t, other) || !same_shape(probes, t, next.outputs[0])) continue;
      conv.inputs.resize(4);  // X, W, bias or "", residual
      conv.inputs[3] = other;
    } else {
      continue;
    }
    conv.outputs = next.outputs;
    g.nodes.erase(g.nodes.begin() + ni);
    return true;
  }
  return false;
}

}  // namespace

Graph fuse_graph(const Graph& g, const std::set<std::string>& keep, bool slab_pools) {
  Graph f = g;
  f.topological_order();  // validates the graph first: errors name the original nodes
  // Shapes of the original graph's tensors stay valid in the fused one (fusion only removes
  // intermediates), so one probe serves every rewrite.
  const std::vector<std::optional<std::map<std::string, Shape>>> probes = {probe_shapes(g, 32), probe_shapes(g, 48)};
  while (fuse_once(f, keep, probes, slab_pools)) {
  }
  return f;
}

}  // namespace vx
