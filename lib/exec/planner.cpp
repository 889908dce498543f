#include "exec/planner.h"

#include <algorithm>

#include "graph/op.h"

namespace vx {

static size_t aligned_bytes(const Shape& s) {
  size_t b = static_cast<size_t>(s.numel()) * sizeof(float);
  return (b + kAlignment - 1) / kAlignment * kAlignment;
}

// Turns the inputs of each channel Concat over one sample (all axes before the concat axis
// of extent 1, so every input is one contiguous run of the output) into slices of its output,
// each at its byte offset; the output then lives from the first slice's producer to the last
// reader of any slice. An input qualifies when it is an arena tensor with no slices of its own
// and is not a slice of another Concat already; the others are copied by the Concat as usual.
static void plan_concats_in_place(const Graph& g, const std::vector<int>& order, const std::vector<InPlace>& rules,
                                  MemoryPlan& plan) {
  for (int step = 0; step < static_cast<int>(order.size()); ++step) {
    const Node& n = g.nodes[order[step]];
    if (rules[step].kind != InPlace::Kind::slices || n.outputs.size() != 1) continue;
    TensorPlan& out = plan.tensors.at(n.outputs[0]);
    if (out.where != TensorPlan::Where::arena || out.shape.rank < 2) continue;
    const int64_t axis = rules[step].axis;
    if (axis < 0 || axis >= out.shape.rank || out.shape.prod(0, static_cast<int>(axis)) != 1) continue;
    const int64_t inner = out.shape.prod(static_cast<int>(axis) + 1, out.shape.rank);
    std::set<std::string> seen;
    size_t offset = 0;
    for (const auto& name : n.inputs) {
      TensorPlan& t = plan.tensors.at(name);
      const size_t bytes = static_cast<size_t>(t.shape[static_cast<int>(axis)] * inner) * sizeof(float);
      bool has_slices = false;
      for (const auto& kv : plan.tensors)
        has_slices = has_slices || (kv.second.where == TensorPlan::Where::slice && kv.second.alias_of == name);
      if (t.where == TensorPlan::Where::arena && !has_slices && seen.insert(name).second && name != n.outputs[0]) {
        t.where = TensorPlan::Where::slice;
        t.alias_of = n.outputs[0];
        t.offset = offset;
        out.first_step = std::min(out.first_step, t.first_step);
        out.last_step = std::max(out.last_step, t.last_step);
      }
      offset += bytes;
    }
  }
}

// Number of tensors planned as slices of, or aliases of, `name`.
static int dependents(const MemoryPlan& plan, const std::string& name) {
  int n = 0;
  for (const auto& kv : plan.tensors)
    n += (kv.second.where == TensorPlan::Where::slice || kv.second.where == TensorPlan::Where::alias) &&
         kv.second.alias_of == name;
  return n;
}

// Arena bytes for `floats` of scratch at one step.
static TensorPlan scratch_plan(int64_t floats, int step) {
  TensorPlan t;
  t.shape = Shape{floats};
  t.bytes = aligned_bytes(t.shape);
  t.first_step = t.last_step = step;
  return t;
}

// An op that offers to compute its output over an input (InPlace::Kind::gathered: a Conv,
// lib/ops/conv_in_place.h, when one sample, strides 1, the same spatial extents, no more output
// than input channels, one layout, no residual) shares those bytes when no later step reads the
// input and its scratch (planned in the arena for that step) is under a quarter of the output.
// Either the output becomes a slice over the input (whose root then lives as long as the output), or, when the
// output is already a slice of a Concat (a U-Net skip) and the input is a free tensor of the
// same size, the input becomes a slice under it (the root's bytes are then reserved from the
// input's producer on). Kept tensors are never overwritten.
static void plan_convs_in_place(const Graph& g, const std::vector<int>& order, const std::vector<InPlace>& rules,
                                const std::set<std::string>& keep, MemoryPlan& plan) {
  using W = TensorPlan::Where;
  for (int step = 0; step < static_cast<int>(order.size()); ++step) {
    const Node& n = g.nodes[order[step]];
    const InPlace& rule = rules[step];
    if (rule.kind != InPlace::Kind::gathered || n.outputs.size() != 1) continue;
    const std::string& xn = n.inputs.at(rule.input);
    const std::string& yn = n.outputs[0];
    if (xn.empty() || xn == yn || keep.count(xn)) continue;
    TensorPlan& x = plan.tensors.at(xn);
    TensorPlan& y = plan.tensors.at(yn);
    // Only where it pays: the slabs' scratch must be well under the bytes it saves.
    const TensorPlan scratch = scratch_plan(rule.scratch_floats, step);
    if (scratch.bytes * 4 > y.bytes) continue;
    if (y.where == W::arena && dependents(plan, yn) == 0 && (x.where == W::arena || x.where == W::slice)) {
      const std::string root_name = x.where == W::slice ? x.alias_of : xn;
      TensorPlan& root = plan.tensors.at(root_name);
      if (root.where != W::arena || root.last_step != step || keep.count(root_name)) continue;
      y.where = W::slice;
      y.alias_of = root_name;
      y.offset = x.where == W::slice ? x.offset : 0;
      root.last_step = std::max(root.last_step, y.last_step);
      plan.scratch[step] = scratch;
      plan.in_place[step] = rule.input;
    } else if (y.where == W::slice && x.where == W::arena && dependents(plan, xn) == 0 && x.last_step == step &&
               x.bytes == y.bytes) {
      TensorPlan& root = plan.tensors.at(y.alias_of);
      x.where = W::slice;
      x.alias_of = y.alias_of;
      x.offset = y.offset;
      root.first_step = std::min(root.first_step, x.first_step);
      plan.scratch[step] = scratch;
      plan.in_place[step] = rule.input;
    }
  }
}

// An op whose output may take an input's bytes elementwise (InPlace::Kind::elementwise: a Conv
// that adds a residual, whose kernels add each residual value into the output element at the
// same place, after reading it) writes its output over that input when nothing reads it after
// (a ResNet block's output then takes the bytes of the shortcut it sums). The output becomes a
// slice over the residual's root, which then lives as long as the output. Not when the
// convolution's input shares those bytes, or the residual is kept.
static void plan_residuals_in_place(const Graph& g, const std::vector<int>& order, const std::vector<InPlace>& rules,
                                    const std::set<std::string>& keep, MemoryPlan& plan) {
  using W = TensorPlan::Where;
  for (int step = 0; step < static_cast<int>(order.size()); ++step) {
    const Node& n = g.nodes[order[step]];
    const InPlace& rule = rules[step];
    if (rule.kind != InPlace::Kind::elementwise || n.outputs.size() != 1 || n.inputs.at(rule.input).empty()) continue;
    const std::string& rn = n.inputs[rule.input];
    const std::string& yn = n.outputs[0];
    TensorPlan& r = plan.tensors.at(rn);
    TensorPlan& y = plan.tensors.at(yn);
    if (y.where != W::arena || dependents(plan, yn) != 0 || r.bytes != y.bytes || keep.count(rn)) continue;
    if (r.where != W::arena && r.where != W::slice) continue;
    if (r.where == W::arena && dependents(plan, rn) != 0) continue;
    const std::string root_name = r.where == W::slice ? r.alias_of : rn;
    TensorPlan& root = plan.tensors.at(root_name);
    if (root.where != W::arena || root.last_step != step || keep.count(root_name)) continue;
    std::string xn = n.inputs[0];  // the bytes the convolution reads: through any alias (a Reshape)
    while (plan.tensors.at(xn).where == W::alias) xn = plan.tensors.at(xn).alias_of;
    const TensorPlan& x = plan.tensors.at(xn);
    if (xn == root_name || (x.where == W::slice && x.alias_of == root_name)) continue;
    y.where = W::slice;
    y.alias_of = root_name;
    y.offset = r.where == W::slice ? r.offset : 0;
    root.last_step = std::max(root.last_step, y.last_step);
    plan.in_place[step] = rule.input;
  }
}

MemoryPlan plan_memory(const Graph& g, const std::vector<int>& order, const std::map<std::string, Shape>& shapes,
                       const std::set<std::string>& keep, bool convs_in_place) {
  MemoryPlan plan;
  std::set<std::string> outputs(g.outputs.begin(), g.outputs.end());
  for (const auto& in : g.inputs) plan.tensors[in.name].where = TensorPlan::Where::input;
  for (const auto& w : g.weights) plan.tensors[w.first].where = TensorPlan::Where::weight;

  auto root_of = [&](std::string name) {
    while (plan.tensors[name].where == TensorPlan::Where::alias) name = plan.tensors[name].alias_of;
    return name;
  };

  const int last = static_cast<int>(order.size());
  // Each step's op, resolved once, and what its output may share with an input (OpDef::in_place).
  std::vector<InPlace> rules(order.size());
  auto shape_of = [&](const std::string& t) {
    auto it = t.empty() ? shapes.end() : shapes.find(t);
    Shape s;
    if (it != shapes.end()) s = it->second;
    else s.rank = -1;
    return s;
  };
  for (int step = 0; step < last; ++step) {
    const Node& n = g.nodes[order[step]];
    const OpDef* op = find_op(n.op);
    std::vector<Shape> in, out;
    for (const auto& t : n.inputs) in.push_back(shape_of(t));
    for (const auto& t : n.outputs) out.push_back(shape_of(t));
    rules[step] = op->in_place(n, in, out);
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
  plan_concats_in_place(g, order, rules, plan);
  for (const auto& kv : plan.tensors)  // without reuse: slices counted in their Concat
    if (kv.second.where == TensorPlan::Where::arena) plan.activation_bytes += kv.second.bytes;
  if (convs_in_place) {
    plan_convs_in_place(g, order, rules, keep, plan);
    plan_residuals_in_place(g, order, rules, keep, plan);
  }

  // Place the largest tensors first; each takes the lowest offset that does not overlap
  // a placed tensor alive at the same time.
  std::vector<TensorPlan*> arena;
  for (auto& kv : plan.tensors)
    if (kv.second.where == TensorPlan::Where::arena) arena.push_back(&kv.second);
  for (auto& kv : plan.scratch) arena.push_back(&kv.second);
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
  for (auto& kv : plan.tensors)
    if (kv.second.where == TensorPlan::Where::slice) kv.second.offset += plan.tensors.at(kv.second.alias_of).offset;
  return plan;
}

}  // namespace vx
