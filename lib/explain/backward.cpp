#include "explain/backward.h"

#include <algorithm>
#include <utility>

#include "graph/op.h"

namespace vx::explain {

bool has_backward(const std::string& op) {
  const OpDef* def = find_op(op);
  return def && def->gradient() == Gradient::rule;
}

const char* missing_backward_kernel(const kern::KernelTable& t) {
  // Every *_backward entry of kern::KernelTable, in its order (node_backward uses them all).
  const std::pair<const char*, bool> entries[] = {
      {"linear_backward", t.linear_backward != nullptr},
      {"channel_affine_backward", t.channel_affine_backward != nullptr},
      {"unary_backward", t.unary_backward != nullptr},
      {"binary_backward", t.binary_backward != nullptr},
      {"softmax_backward", t.softmax_backward != nullptr},
      {"pool_backward", t.pool_backward != nullptr},
      {"adaptive_pool_backward", t.adaptive_pool_backward != nullptr},
      {"resize_backward", t.resize_backward != nullptr},
      {"pad_backward", t.pad_backward != nullptr},
      {"conv_backward", t.conv_backward != nullptr},
      {"conv_transpose_backward", t.conv_transpose_backward != nullptr},
      {"concat_backward", t.concat_backward != nullptr},
      {"slice_backward", t.slice_backward != nullptr},
      {"copy_backward", t.copy_backward != nullptr},
      {"view_copy_backward", t.view_copy_backward != nullptr},  // view ops (issue 18)
      {"select_backward", t.select_backward != nullptr},
  };
  for (const auto& [name, set] : entries)
    if (!set) return name;
  return nullptr;
}

void require_backward_kernels(const kern::KernelTable& t) {
  if (const char* missing = missing_backward_kernel(t))
    fail(Status::unsupported, std::string("Grad-CAM needs backward kernels, and kernel table '") +
                                  (t.name ? t.name : "?") + "' has no " + missing +
                                  " (not on this backend): run Grad-CAM with a host table (cpu or ref)");
}

BackwardPlan plan_backward(const Graph& g, const std::vector<int>& order, const std::string& seed,
                           const std::vector<std::string>& targets) {
  BackwardPlan plan;
  plan.seed = seed;
  plan.targets = targets;
  std::map<std::string, int> producer;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& o : g.nodes[i].outputs) producer[o] = static_cast<int>(i);

  // Tensors downstream of the targets (forward sweep) ...
  std::set<std::string> down(targets.begin(), targets.end());
  std::vector<int> on_path_fwd;
  for (int idx : order) {
    const Node& n = g.nodes[idx];
    bool hit = false;
    for (const auto& in : n.inputs) hit = hit || (!in.empty() && down.count(in));
    if (hit) {
      for (const auto& o : n.outputs) down.insert(o);
      on_path_fwd.push_back(idx);
    }
  }
  // ... and upstream of the seed (backward sweep).
  std::set<std::string> up = {seed};
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Node& n = g.nodes[*it];
    bool feeds = false;
    for (const auto& o : n.outputs) feeds = feeds || up.count(o);
    if (!feeds) continue;
    for (const auto& in : n.inputs)
      if (!in.empty()) up.insert(in);
    if (std::find(on_path_fwd.begin(), on_path_fwd.end(), *it) != on_path_fwd.end()) plan.nodes.push_back(*it);
  }
  for (const auto& t : targets) {
    if (!producer.count(t) && g.find_node(t) < 0 && !g.weights.count(t)) {
      bool is_input = false;
      for (const auto& gi : g.inputs) is_input = is_input || gi.name == t;
      if (!is_input) fail(Status::invalid_argument, "no tensor named '" + t + "' in the model");
    }
    if (t != seed && !up.count(t))
      fail(Status::invalid_argument, "no differentiable path from layer tensor '" + t + "' to '" + seed +
                                         "': the output does not depend on it");
  }
  for (int idx : plan.nodes) {
    const Node& n = g.nodes[idx];
    if (!has_backward(n.op))
      fail(Status::unsupported, "node '" + n.name + "' (" + n.op + ") lies between the layer and the output and "
                                "has no backward rule, so Grad-CAM cannot differentiate through it");
    for (const auto& in : n.inputs)
      if (!in.empty() && !g.weights.count(in)) plan.needed.insert(in);
    for (const auto& o : n.outputs) plan.needed.insert(o);
  }
  for (const auto& t : targets) plan.needed.insert(t);
  return plan;
}

namespace {

void add_gradient(std::map<std::string, Tensor>& grads, const std::string& name, Tensor g) {
  auto it = grads.find(name);
  if (it == grads.end()) {
    grads[name] = std::move(g);
    return;
  }
  float* d = it->second.f32();
  const float* s = g.f32();
  for (int64_t i = 0; i < g.numel(); ++i) d[i] += s[i];
}

// What an op's backward() (its own file, lib/ops/) sees of the forward run: one node's.
class NodeBackward final : public BackwardContext {
 public:
  NodeBackward(const Node& n, const Executor& ex, const Tensor& dy, const std::set<std::string>& wants,
               std::map<std::string, Tensor>& grads, const kern::KernelTable& k)
      : n_(n), ex_(ex), dy_(dy), wants_(wants), grads_(grads), k_(k) {}
  const kern::KernelTable& kernels() const override { return k_; }
  Shape shape(const std::string& t) const override { return ex_.shapes().at(t); }
  Tensor value(const std::string& t) const override { return ex_.tensor(t); }
  const Tensor& dy() const override { return dy_; }
  const Tensor* dy_at(size_t k) const override {
    if (k == 0) return &dy_;
    auto it = k < n_.outputs.size() ? grads_.find(n_.outputs[k]) : grads_.end();
    return it == grads_.end() ? nullptr : &it->second;
  }
  bool wants(size_t i) const override {
    return i < n_.inputs.size() && !n_.inputs[i].empty() && wants_.count(n_.inputs[i]);
  }
  void accumulate(size_t i, Tensor dx) override { add_gradient(grads_, n_.inputs.at(i), std::move(dx)); }

 private:
  const Node& n_;
  const Executor& ex_;
  const Tensor& dy_;
  const std::set<std::string>& wants_;
  std::map<std::string, Tensor>& grads_;
  const kern::KernelTable& k_;
};

}  // namespace

std::map<std::string, Tensor> run_backward(const BackwardPlan& plan, const Executor& ex, const Tensor& dseed,
                                           const kern::KernelTable& kernels) {
  require_backward_kernels(kernels);
  const Graph& g = ex.graph();
  const Shape seed_shape = ex.shapes().at(plan.seed);
  if (dseed.shape() != seed_shape)
    fail(Status::shape_mismatch, "the seed gradient has shape " + dseed.shape().str() + ", the tensor '" + plan.seed +
                                     "' has " + seed_shape.str());
  // Tensors whose gradient matters: downstream of a target (inputs elsewhere are constants).
  std::set<std::string> wants(plan.targets.begin(), plan.targets.end());
  for (auto it = plan.nodes.rbegin(); it != plan.nodes.rend(); ++it)
    for (const auto& o : g.nodes[*it].outputs) wants.insert(o);
  std::map<std::string, Tensor> grads;
  grads[plan.seed] = dseed.clone();
  for (int idx : plan.nodes) {
    const Node& n = g.nodes[idx];
    auto it = grads.find(n.outputs[0]);
    bool any = it != grads.end();
    for (size_t k = 1; k < n.outputs.size() && !any; ++k) any = grads.count(n.outputs[k]) != 0;
    if (!any) continue;  // this node's outputs reach the seed through nothing: zero gradient
    // A multi-output node (Split) whose output 0 reaches no seed: dy() is zero there.
    Tensor dy = it != grads.end() ? it->second : Tensor::zeros(ex.shapes().at(n.outputs[0]));
    try {
      const OpDef* op = find_op(n.op);
      if (!op || op->gradient() != Gradient::rule) fail(Status::unsupported, "no backward rule for op " + n.op);
      NodeBackward ctx(n, ex, dy, wants, grads, kernels);
      op->backward(n, ctx);
    } catch (const Error& e) {
      fail(e.status(), "backward of node '" + n.name + "' (" + n.op + "): " + e.what());
    }
  }
  std::map<std::string, Tensor> result;
  for (const auto& t : plan.targets) {
    auto it = grads.find(t);
    result[t] = it != grads.end() ? it->second : Tensor::zeros(ex.shapes().at(t));
  }
  return result;
}

}  // namespace vx::explain
