#include "exec/planner.h"

#include <algorithm>

#include "graph/op.h"
#include "ops/conv_in_place.h"
#include "ops/spatial.h"

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
static void plan_concats_in_place(const Graph& g, const std::vector<int>& order, MemoryPlan& plan) {
  for (int step = 0; step < static_cast<int>(order.size()); ++step) {
    const Node& n = g.nodes[order[step]];
    if (n.op != "Concat" || n.outputs.size() != 1) continue;
    TensorPlan& out = plan.tensors.at(n.outputs[0]);
    if (out.where != TensorPlan::Where::arena || out.shape.rank < 2) continue;
    int64_t axis = n.attrs.get_int("axis", 0);
    if (axis < 0) axis += out.shape.rank;
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

// The scratch of a Conv computed over its input (lib/ops/conv_in_place.h), planned in the
// arena for its step: from its input `x`, output `y` and weight `w` shapes and attributes.
static TensorPlan in_place_scratch(const Node& n, const Shape& x, const Shape& y, const Shape& w, int step) {
  const Spatial s = spatial_of(x, "conv input");
  kern::ConvParams p;
  p.ic = x[1];
  p.oc = y[1];
  int64_t pad_end[3];
  spatial_pads(n, s.nd, p.pad, pad_end);
  spatial_attr(n, "dilations", s.nd, 1, 1, p.dil);
  const int off = 3 - s.nd;
  for (int i = 0; i < 3; ++i) p.in[i] = p.out[i] = s.ext[i], p.k[i] = i < off ? 1 : w[2 + i - off];
  p.src_layout = p.dst_layout = n.attrs.get_int(kLayoutX, 0) == 1 ? kern::Layout::blocked16 : kern::Layout::plain;
  TensorPlan t;
  t.shape = Shape{conv_in_place_scratch_floats(p)};
  t.bytes = aligned_bytes(t.shape);
  t.first_step = t.last_step = step;
  return t;
}

// A Conv whose input no later step reads shares its bytes with its output
// (lib/ops/conv_in_place.h computes it in place): one sample, strides 1, the same spatial
// extents, no more output than input channels, one layout, no residual, and a scratch (planned
// in the arena for that step) under a quarter of the output. Either the output becomes
// a slice over the input (whose root then lives as long as the output), or, when the
// output is already a slice of a Concat (a U-Net skip) and the input is a free tensor of the
// same size, the input becomes a slice under it (the root's bytes are then reserved from the
// input's producer on). Kept tensors are never overwritten.
static void plan_convs_in_place(const Graph& g, const std::vector<int>& order, const std::map<std::string, Shape>& shapes,
                                const std::set<std::string>& keep, MemoryPlan& plan) {
  using W = TensorPlan::Where;
  for (int step = 0; step < static_cast<int>(order.size()); ++step) {
    const Node& n = g.nodes[order[step]];
    if (n.op != "Conv" || n.outputs.size() != 1 || n.inputs.size() < 2 || n.inputs[0].empty() ||
        (n.inputs.size() >= 4 && !n.inputs[3].empty()))
      continue;
    if (n.attrs.get_int(kLayoutX, 0) != n.attrs.get_int(kLayoutY, 0)) continue;
    bool unit_strides = true;
    for (int64_t v : n.attrs.get_ints("strides")) unit_strides = unit_strides && v == 1;
    const std::string& xn = n.inputs[0];
    const std::string& yn = n.outputs[0];
    if (!unit_strides || xn == yn || keep.count(xn)) continue;
    TensorPlan& x = plan.tensors.at(xn);
    TensorPlan& y = plan.tensors.at(yn);
    const Shape& xs = x.shape;
    const Shape& ys = y.shape;
    bool same_grid = xs.rank == ys.rank && (xs.rank == 4 || xs.rank == 5) && xs[0] == 1 && ys[0] == 1 && ys[1] <= xs[1];
    for (int d = 2; same_grid && d < xs.rank; ++d) same_grid = xs[d] == ys[d];
    if (!same_grid) continue;
    // Only where it pays: the slabs' scratch must be well under the bytes it saves.
    const TensorPlan scratch = in_place_scratch(n, xs, ys, shapes.at(n.inputs[1]), step);
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
    } else if (y.where == W::slice && x.where == W::arena && dependents(plan, xn) == 0 && x.last_step == step &&
               x.bytes == y.bytes) {
      TensorPlan& root = plan.tensors.at(y.alias_of);
      x.where = W::slice;
      x.alias_of = y.alias_of;
      x.offset = y.offset;
      root.first_step = std::min(root.first_step, x.first_step);
      plan.scratch[step] = scratch;
    }
  }
}

// A Conv that adds a residual nothing reads after it writes its output over the residual: the
// kernels add each residual value into the output element at the same place, after reading it
// (a ResNet block's output then takes the bytes of the shortcut it sums). The output becomes a
// slice over the residual's root, which then lives as long as the output. Not when the
// convolution's input shares those bytes, or the residual is kept.
static void plan_residuals_in_place(const Graph& g, const std::vector<int>& order, const std::set<std::string>& keep,
                                    MemoryPlan& plan) {
  using W = TensorPlan::Where;
  for (int step = 0; step < static_cast<int>(order.size()); ++step) {
    const Node& n = g.nodes[order[step]];
    if (n.op != "Conv" || n.outputs.size() != 1 || n.inputs.size() < 4 || n.inputs[3].empty()) continue;
    const std::string& rn = n.inputs[3];
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
  plan_concats_in_place(g, order, plan);
  for (const auto& kv : plan.tensors)  // without reuse: slices counted in their Concat
    if (kv.second.where == TensorPlan::Where::arena) plan.activation_bytes += kv.second.bytes;
  if (convs_in_place) {
    plan_convs_in_place(g, order, shapes, keep, plan);
    plan_residuals_in_place(g, order, keep, plan);
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
