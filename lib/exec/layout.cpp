#include "exec/layout.h"

#include "graph/op.h"
#include "ops/spatial.h"

namespace vx {

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

  // What each node wants of each input (0 plain, 1 blocked, kAnyLayout), and its output's
  // layout: the op's own rule (OpDef::layout).
  const LayoutQuery query{shapes, can_block, is_blocked};
  std::vector<LayoutChoice> choice(g.nodes.size());
  for (int idx : order) {
    Node& n = g.nodes[idx];
    LayoutChoice& c = choice[idx];
    c.want.assign(n.inputs.size(), 0);
    if (n.inputs.empty()) continue;
    find_op(n.op)->layout(n, query, c);
    if (c.out == 1) blocked.insert(n.outputs[0]);
    if (c.out >= 0) n.attrs.set_int(kLayoutY, c.out);
  }

  // Reorders where a reader's wish and a tensor's layout differ; one per tensor and layout.
  std::set<std::string> converted;                // tensors made by the reorders
  std::map<int, std::vector<Node>> before;        // node index -> reorders to run before it
  for (int idx : order) {
    Node& n = g.nodes[idx];
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const std::string t = n.inputs[k];
      if (t.empty()) continue;
      const int have = is_blocked(t), w = choice[idx].want[k];
      if (w == kAnyLayout || w == have) continue;
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
    if (choice[idx].records_input_layout) n.attrs.set_int(kLayoutX, is_blocked(n.inputs[0]));
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
