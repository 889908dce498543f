#include "exec/layout.h"

#include "ops/spatial.h"

namespace vx {

namespace {

constexpr int kAny = -1;  // a reader that takes either layout (it reorders internally)

bool is_pool(const std::string& op) { return op == "MaxPool" || op == "AveragePool"; }

bool channel_concat(const Node& n, const Shape& y) {
  if (n.op != "Concat" || !n.attrs.has("axis")) return false;
  const int64_t a = n.attrs.get_int("axis", 0);
  return a == 1 || a == 1 - y.rank;
}

}  // namespace

Graph assign_layouts(const Graph& in, const std::vector<int>& order, std::map<std::string, Shape>& shapes,
                     const std::set<std::string>& keep, const kern::KernelTable& kernels) {
  Graph g = in;
  if (!kernels.reorder) return g;
  std::set<std::string> pinned(keep.begin(), keep.end());
  pinned.insert(g.outputs.begin(), g.outputs.end());
  auto can_block = [&](const std::string& t) {
    auto it = shapes.find(t);
    if (it == shapes.end() || pinned.count(t)) return false;
    const Shape& s = it->second;
    return (s.rank == 4 || s.rank == 5) && s[1] > 0 && s[1] % 16 == 0;
  };
  std::set<std::string> blocked;  // graph inputs and weights are never in it
  auto is_blocked = [&](const std::string& t) { return blocked.count(t) > 0; };

  // What each node wants of each input (0 plain, 1 blocked, kAny), and its output's layout.
  std::vector<std::vector<int>> want(g.nodes.size());
  for (int idx : order) {
    Node& n = g.nodes[idx];
    want[idx].assign(n.inputs.size(), 0);
    const bool conv_pool = n.op == "Conv" && n.outputs.size() == 2;  // output 1: its scratch
    if ((n.outputs.size() != 1 && !conv_pool) || n.inputs.empty()) continue;
    const std::string& y = n.outputs[0];
    const bool single_group = n.attrs.get_int("group", 1) == 1;
    int out = -1;  // -1: this op has no layout attributes
    if (n.op == "Conv") {
      out = single_group && can_block(y);
      want[idx][0] = kAny;
      if (n.inputs.size() == 4 && !n.inputs[3].empty()) want[idx][3] = out;  // the residual
    } else if (n.op == "ConvTranspose") {
      out = single_group && can_block(y) && is_blocked(n.inputs[0]);
      want[idx][0] = out ? 1 : kAny;
    } else if (is_pool(n.op)) {
      out = can_block(y) && is_blocked(n.inputs[0]);
      want[idx][0] = out;
    } else if (shapes.count(y) && channel_concat(n, shapes.at(y))) {
      bool all = can_block(y);
      for (const auto& t : n.inputs) all = all && is_blocked(t);
      out = all;
      for (auto& w : want[idx]) w = out;
    }
    if (out == 1) blocked.insert(y);
    if (out >= 0) n.attrs.set_int(kLayoutY, out);
  }

  // Reorders where a reader's wish and a tensor's layout differ; one per tensor and layout.
  std::set<std::string> converted;                // tensors made by the reorders
  std::map<int, std::vector<Node>> before;        // node index -> reorders to run before it
  for (int idx : order) {
    Node& n = g.nodes[idx];
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const std::string t = n.inputs[k];
      if (t.empty()) continue;
      const int have = is_blocked(t), w = want[idx][k];
      if (w == kAny || w == have) continue;
      const std::string name = t + (w ? "@blocked16" : "@plain");
      if (!converted.count(name)) {
        Node r;
        r.name = "layout_reorder:" + name;
        r.op = "LayoutReorder";
        r.inputs = {t};
        r.outputs = {name};
        r.attrs.set_int(kLayoutX, have);
        r.attrs.set_int(kLayoutY, w);
        shapes[name] = shapes.at(t);
        if (w) blocked.insert(name);
        before[idx].push_back(std::move(r));
        converted.insert(name);
      }
      n.inputs[k] = name;
    }
    if (n.op == "Conv" || n.op == "ConvTranspose" || is_pool(n.op)) n.attrs.set_int(kLayoutX, is_blocked(n.inputs[0]));
  }
  if (before.empty()) return g;
  std::vector<Node> nodes;
  nodes.reserve(g.nodes.size() + converted.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    auto it = before.find(static_cast<int>(i));
    if (it != before.end())
      for (auto& r : it->second) nodes.push_back(std::move(r));
    nodes.push_back(std::move(g.nodes[i]));
  }
  g.nodes = std::move(nodes);
  return g;
}

}  // namespace vx
