#include "exec/planner.h"

#include <algorithm>

#include "graph/op.h"

namespace vx {

static size_t aligned_bytes(const Shape& s) {
  size_t b = static_cast<size_t>(s.numel()) * sizeof(float);
  return (b + kAlignment - 1) / kAlignment * kAlignment;
}

MemoryPlan plan_memory(const Graph& g, const std::vector<int>& order, const std::map<std::string, Shape>& shapes,
                       const std::set<std::string>& keep) {
  MemoryPlan plan;
  std::set<std::string> outputs(g.outputs.begin(), g.outputs.end());
  for (const auto& in : g.inputs) plan.tensors[in.name].where = TensorPlan::Where::input;
  for (const auto& w : g.weights) plan.tensors[w.first].where = TensorPlan::Where::weight;

  auto root_of = [&](std::string name) {
    while (plan.tensors[name].where == TensorPlan::Where::alias) name = plan.tensors[name].alias_of;
    return name;
  };

  const int last = static_cast<int>(order.size());
  for (int step = 0; step < last; ++step) {
    const Node& n = g.nodes[order[step]];
    const OpDef* op = find_op(n.op);
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      TensorPlan& t = plan.tensors[n.outputs[k]];
      t.shape = shapes.at(n.outputs[k]);
      t.bytes = aligned_bytes(t.shape);
      t.first_step = t.last_step = step;
      if (outputs.count(n.outputs[k])) {
        t.where = TensorPlan::Where::output;
      } else if (k == 0 && op->alias_input() >= 0) {
        t.where = TensorPlan::Where::alias;
        t.alias_of = n.inputs[op->alias_input()];
      } else {
        t.where = TensorPlan::Where::arena;
      }
    }
    for (const auto& in : n.inputs) {
      if (in.empty()) continue;
      TensorPlan& r = plan.tensors[root_of(in)];
      r.last_step = std::max(r.last_step, step);
    }
  }
  for (const auto& k : keep) {
    auto it = plan.tensors.find(k);
    if (it != plan.tensors.end()) plan.tensors[root_of(k)].last_step = last;
  }

  // Place the largest tensors first; each takes the lowest offset that does not overlap
  // a placed tensor alive at the same time.
  std::vector<TensorPlan*> arena;
  for (auto& kv : plan.tensors)
    if (kv.second.where == TensorPlan::Where::arena) {
      arena.push_back(&kv.second);
      plan.activation_bytes += kv.second.bytes;
    }
  std::stable_sort(arena.begin(), arena.end(), [](const TensorPlan* a, const TensorPlan* b) { return a->bytes > b->bytes; });
  std::vector<TensorPlan*> placed;
  for (TensorPlan* t : arena) {
    std::vector<std::pair<size_t, size_t>> busy;  // [begin, end) byte ranges in use during t's life
    for (const TensorPlan* p : placed)
      if (p->first_step <= t->last_step && t->first_step <= p->last_step) busy.emplace_back(p->offset, p->offset + p->bytes);
    std::sort(busy.begin(), busy.end());
    size_t offset = 0, best = SIZE_MAX, best_gap = SIZE_MAX;
    for (const auto& b : busy) {
      if (b.first >= offset + t->bytes && b.first - offset < best_gap) {
        best = offset;
        best_gap = b.first - offset;
      }
      offset = std::max(offset, b.second);
    }
    t->offset = best != SIZE_MAX ? best : offset;
    plan.arena_bytes = std::max(plan.arena_bytes, t->offset + t->bytes);
    placed.push_back(t);
  }
  return plan;
}

}  // namespace vx
