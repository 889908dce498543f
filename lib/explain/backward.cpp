#include "explain/backward.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "ops/spatial.h"

namespace vx::explain {
namespace {

const std::set<std::string>& pass_through_ops() {
  static const std::set<std::string> s = {"Identity", "Dropout", "Flatten", "Reshape", "Squeeze", "Unsqueeze"};
  return s;
}
const std::set<std::string>& supported_ops() {
  static const std::set<std::string> s = {
      "Conv", "ConvTranspose", "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Identity", "Dropout",
      "Flatten", "Reshape", "Squeeze", "Unsqueeze", "GlobalAveragePool", "GlobalMaxPool", "AveragePool", "MaxPool",
      "AdaptiveAveragePool", "AdaptiveAvgPool", "AdaptiveMaxPool", "Concat", "Add", "Sub", "Mul", "Div", "Gemm",
      "MatMul", "Resize", "Pad", "Slice", "Softmax"};
  return s;
}

int norm_axis(int64_t axis, int rank) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(Status::invalid_argument, "axis " + std::to_string(axis) + " out of range");
  return static_cast<int>(a);
}

void fill_broadcast(const Shape& s, int64_t stride[5]) {
  int64_t acc = 1;
  for (int i = 4; i >= 0; --i) {
    const int si = i - (5 - s.rank);
    const int64_t d = si >= 0 ? s[si] : 1;
    stride[i] = d == 1 ? 0 : acc;
    acc *= d;
  }
}

kern::ConvParams conv_geometry(const Node& node, const Shape& x, const Shape& w, const Shape& y, bool transposed) {
  Spatial s = spatial_of(x, "input");
  Spatial so = spatial_of(y, "output");
  kern::ConvParams p;
  p.n = s.n;
  p.ic = s.c;
  p.oc = so.c;
  p.groups = node.attrs.get_int("group", 1);
  const int off = 3 - s.nd;
  for (int i = 0; i < 3; ++i) {
    p.in[i] = s.ext[i];
    p.out[i] = so.ext[i];
    p.k[i] = i < off ? 1 : w[2 + i - off];
  }
  spatial_attr(node, "strides", s.nd, 1, 1, p.stride);
  spatial_attr(node, "dilations", s.nd, 1, 1, p.dil);
  int64_t end[3];
  spatial_pads(node, s.nd, p.pad, end);
  (void)transposed;
  return p;
}

// A 2-D or 3-D NC* tensor's extents widened to 3 (depth 1 for 2-D); rank 2/3 tensors too.
void extents3(const Shape& s, int64_t ext[3]) {
  ext[0] = ext[1] = ext[2] = 1;
  const int nd = s.rank - 2;
  for (int i = 0; i < nd; ++i) ext[3 - nd + i] = s[2 + i];
}

}  // namespace

bool has_backward(const std::string& op) { return supported_ops().count(op) != 0; }

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

void accumulate(std::map<std::string, Tensor>& grads, const std::string& name, Tensor g) {
  auto it = grads.find(name);
  if (it == grads.end()) {
    grads[name] = std::move(g);
    return;
  }
  float* d = it->second.f32();
  const float* s = g.f32();
  for (int64_t i = 0; i < g.numel(); ++i) d[i] += s[i];
}

// Gradient of every differentiable input of `n`, given the gradient of its first output.
void node_backward(const Node& n, const Executor& ex, const Tensor& dy, const std::set<std::string>& wants,
                   std::map<std::string, Tensor>& grads, const kern::KernelTable& k) {
  const auto& shapes = ex.shapes();
  auto shape_of = [&](const std::string& t) { return shapes.at(t); };
  auto value = [&](const std::string& t) { return ex.tensor(t); };
  auto wants_input = [&](size_t i) { return i < n.inputs.size() && !n.inputs[i].empty() && wants.count(n.inputs[i]); };
  const std::string& out = n.outputs[0];
  const Shape ys = shape_of(out);
  const float* g = dy.f32();
  auto fresh = [&](size_t i) { return Tensor::empty(shape_of(n.inputs[i])); };

  if (pass_through_ops().count(n.op)) {
    Tensor dx = fresh(0);
    k.copy_backward(dx.numel(), g, dx.f32());
    accumulate(grads, n.inputs[0], dx);
    return;
  }
  if (n.op == "Relu" || n.op == "LeakyRelu" || n.op == "Sigmoid" || n.op == "Tanh") {
    const kern::Unary u = n.op == "Relu"        ? kern::Unary::relu
                          : n.op == "LeakyRelu" ? kern::Unary::leaky_relu
                          : n.op == "Sigmoid"   ? kern::Unary::sigmoid
                                                : kern::Unary::tanh;
    Tensor dx = fresh(0);
    k.unary_backward(u, static_cast<float>(n.attrs.get_float("alpha", 0.01)), dx.numel(), value(n.inputs[0]).f32(),
            value(out).f32(), g, dx.f32());
    accumulate(grads, n.inputs[0], dx);
    return;
  }
  if (n.op == "Conv" || n.op == "ConvTranspose") {
    const bool tr = n.op == "ConvTranspose";
    kern::ConvParams p = conv_geometry(n, shape_of(n.inputs[0]), shape_of(n.inputs[1]), ys, tr);
    Tensor dx = fresh(0);
    Tensor w = value(n.inputs[1]);
    if (tr) k.conv_transpose_backward(p, g, w.f32(), dx.f32());
    else k.conv_backward(p, g, w.f32(), dx.f32());
    accumulate(grads, n.inputs[0], dx);
    return;
  }
  if (n.op == "BatchNormalization") {
    const Shape xs = shape_of(n.inputs[0]);
    const double eps = n.attrs.get_float("epsilon", 1e-5);
    Tensor gamma = value(n.inputs[1]), var = value(n.inputs[4]);
    std::vector<float> scale(static_cast<size_t>(xs[1]));
    for (int64_t c = 0; c < xs[1]; ++c)
      scale[c] = static_cast<float>(gamma.f32()[c] / std::sqrt(static_cast<double>(var.f32()[c]) + eps));
    Tensor dx = fresh(0);
    k.channel_affine_backward(xs[0], xs[1], xs.prod(2, xs.rank), scale.data(), g, dx.f32());
    accumulate(grads, n.inputs[0], dx);
    return;
  }
  if (n.op == "GlobalAveragePool" || n.op == "GlobalMaxPool" || n.op == "AdaptiveAveragePool" ||
      n.op == "AdaptiveAvgPool" || n.op == "AdaptiveMaxPool") {
    const Shape xs = shape_of(n.inputs[0]);
    kern::AdaptivePoolParams p;
    p.n = xs[0];
    p.c = xs[1];
    extents3(xs, p.in);
    extents3(ys, p.out);
    p.kind = n.op.find("Max") != std::string::npos ? kern::PoolKind::max : kern::PoolKind::avg;
    Tensor dx = fresh(0);
    k.adaptive_pool_backward(p, value(n.inputs[0]).f32(), g, dx.f32());
    accumulate(grads, n.inputs[0], dx);
    return;
  }
  if (n.op == "AveragePool" || n.op == "MaxPool") {
    const Shape xs = shape_of(n.inputs[0]);
    Spatial s = spatial_of(xs, "pool input");
    kern::PoolParams p;
    p.n = s.n;
    p.c = s.c;
    extents3(xs, p.in);
    extents3(ys, p.out);
    spatial_attr(n, "kernel_shape", s.nd, 1, 1, p.k);
    spatial_attr(n, "strides", s.nd, 1, 1, p.stride);
    spatial_attr(n, "dilations", s.nd, 1, 1, p.dil);
    int64_t end[3];
    spatial_pads(n, s.nd, p.pad, end);
    p.kind = n.op == "MaxPool" ? kern::PoolKind::max : kern::PoolKind::avg;
    p.count_include_pad = n.attrs.get_int("count_include_pad", 0) != 0;
    Tensor dx = fresh(0);
    k.pool_backward(p, value(n.inputs[0]).f32(), g, dx.f32());
    accumulate(grads, n.inputs[0], dx);
    return;
  }
  if (n.op == "Concat") {
    const int axis = norm_axis(n.attrs.get_int("axis", 0), ys.rank);
    std::vector<int64_t> sizes;
    std::vector<Tensor> parts;
    std::vector<float*> ptrs;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      sizes.push_back(shape_of(n.inputs[i])[axis]);
      parts.push_back(fresh(i));
    }
    for (auto& t : parts) ptrs.push_back(t.f32());
    k.concat_backward(ys.prod(0, axis), ys.prod(axis + 1, ys.rank), static_cast<int>(sizes.size()), sizes.data(),
                      g, ptrs.data());
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (wants_input(i)) accumulate(grads, n.inputs[i], parts[i]);
    return;
  }
  if (n.op == "Add" || n.op == "Sub" || n.op == "Mul" || n.op == "Div") {
    const kern::Binary b = n.op == "Add"   ? kern::Binary::add
                           : n.op == "Sub" ? kern::Binary::sub
                           : n.op == "Mul" ? kern::Binary::mul
                                           : kern::Binary::div;
    kern::BroadcastParams p;
    for (int i = 0; i < 5; ++i) p.out[i] = i - (5 - ys.rank) >= 0 ? ys[i - (5 - ys.rank)] : 1;
    fill_broadcast(shape_of(n.inputs[0]), p.a_stride);
    fill_broadcast(shape_of(n.inputs[1]), p.b_stride);
    Tensor da, db;
    if (wants_input(0)) da = fresh(0);
    if (wants_input(1)) db = fresh(1);
    Tensor a = value(n.inputs[0]), bb = value(n.inputs[1]);
    k.binary_backward(b, p, a.f32(), bb.f32(), g, da.defined() ? da.f32() : nullptr, db.defined() ? db.f32() : nullptr);
    // Add(x, x) reads one tensor twice: both halves accumulate.
    if (da.defined()) accumulate(grads, n.inputs[0], da);
    if (db.defined()) accumulate(grads, n.inputs[1], db);
    return;
  }
  if (n.op == "Gemm" || n.op == "MatMul") {
    const Shape as = shape_of(n.inputs[0]), bs = shape_of(n.inputs[1]);
    if (as.rank != 2 || bs.rank != 2)
      fail(Status::unsupported, "backward of " + n.op + " supports 2-D operands only, got " + as.str());
    if (n.attrs.get_int("transA", 0)) fail(Status::unsupported, "backward of Gemm with transA=1");
    const bool trans_b = n.op == "Gemm" && n.attrs.get_int("transB", 0) != 0;
    const float alpha = n.op == "Gemm" ? static_cast<float>(n.attrs.get_float("alpha", 1.0)) : 1.f;
    const int64_t m = as[0], kk = as[1], nn = ys[1];
    Tensor bw = value(n.inputs[1]);
    std::vector<float> wt;  // B as [N, K]
    const float* w = bw.f32();
    if (!trans_b) {
      wt.resize(static_cast<size_t>(nn * kk));
      for (int64_t i = 0; i < kk; ++i)
        for (int64_t j = 0; j < nn; ++j) wt[j * kk + i] = w[i * nn + j];
      w = wt.data();
    }
    Tensor dx = fresh(0);
    k.linear_backward(m, kk, nn, g, w, dx.f32());
    if (alpha != 1.f)
      for (int64_t i = 0; i < dx.numel(); ++i) dx.f32()[i] *= alpha;
    accumulate(grads, n.inputs[0], dx);
    return;
  }
  if (n.op == "Resize") {
    // lib/ops/resize.cpp semantics: mode, align_corners (0/1), scales (one per spatial axis)
    // or sizes / a "like" input (ratio = in / out).
    const Shape xs = shape_of(n.inputs[0]);
    Spatial s = spatial_of(xs, "Resize input");
    kern::ResizeParams p;
    p.n = s.n;
    p.c = s.c;
    extents3(xs, p.in);
    extents3(ys, p.out);
    p.mode = n.attrs.get_str("mode", "nearest") == "nearest" ? kern::ResizeMode::nearest : kern::ResizeMode::linear;
    p.align_corners = n.attrs.get_int("align_corners", 0) != 0;
    const std::vector<double> scales = n.attrs.get_floats("scales");
    const int off = 3 - s.nd;
    for (int i = 0; i < 3; ++i) {
      const bool has = i >= off && static_cast<int>(scales.size()) == s.nd;
      p.ratio[i] = has ? 1.0 / scales[i - off] : static_cast<double>(p.in[i]) / static_cast<double>(p.out[i]);
    }
    Tensor dx = fresh(0);
    k.resize_backward(p, g, dx.f32());
    accumulate(grads, n.inputs[0], dx);
    return;
  }
  if (n.op == "Pad") {
    // lib/ops/pad.cpp semantics: pads attribute (2*rank, begins then ends), spatial axes only.
    const Shape xs = shape_of(n.inputs[0]);
    const std::vector<int64_t> pads = n.attrs.get_ints("pads");
    if (static_cast<int>(pads.size()) != 2 * xs.rank) fail(Status::invalid_argument, "Pad needs 2*rank pads");
    const std::string mode = n.attrs.get_str("mode", "constant");
    kern::PadParams p;
    p.mode = mode == "reflect" ? kern::PadMode::reflect : mode == "edge" ? kern::PadMode::edge : kern::PadMode::constant;
    p.nc = xs[0] * xs[1];
    const int nd = xs.rank - 2, off = 3 - nd;
    for (int i = off; i < 3; ++i) {
      const int axis = 2 + i - off;
      p.in[i] = xs[axis];
      p.out[i] = ys[axis];
      p.begin[i] = pads[axis];
    }
    Tensor dx = fresh(0);
    k.pad_backward(p, g, dx.f32());
    accumulate(grads, n.inputs[0], dx);
    return;
  }
  if (n.op == "Slice") {
    // lib/ops/pad.cpp semantics: attributes starts, ends, axes, steps (1); ONNX clamping.
    const Shape xs = shape_of(n.inputs[0]);
    const std::vector<int64_t> starts = n.attrs.get_ints("starts");
    std::vector<int64_t> axes = n.attrs.get_ints("axes");
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    // Expand one sliced axis at a time, from the output shape back to the input shape.
    Shape cur = ys;
    Tensor cur_g = dy;
    for (size_t i = 0; i < axes.size() && i < starts.size(); ++i) {
      const int a = norm_axis(axes[i], xs.rank);
      const int64_t len = xs[a];
      int64_t st = starts[i] < 0 ? starts[i] + len : starts[i];
      st = std::clamp<int64_t>(st, 0, len);
      Shape next = cur;
      next[a] = len;
      Tensor ng = Tensor::empty(next);
      k.slice_backward(cur.prod(0, a), len, cur.prod(a + 1, cur.rank), st, 1, cur[a], cur_g.f32(), ng.f32());
      cur = next;
      cur_g = ng;
    }
    accumulate(grads, n.inputs[0], cur_g.clone());
    return;
  }
  if (n.op == "Softmax") {
    const int axis = norm_axis(n.attrs.get_int("axis", 1), ys.rank);
    Tensor dx = fresh(0);
    k.softmax_backward(ys.prod(0, axis), ys[axis], ys.prod(axis + 1, ys.rank), value(out).f32(), g, dx.f32());
    accumulate(grads, n.inputs[0], dx);
    return;
  }
  fail(Status::unsupported, "no backward rule for op " + n.op);
}

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
    if (it == grads.end()) continue;  // this node's output only reaches the seed through nothing: zero gradient
    Tensor dy = it->second;
    try {
      node_backward(n, ex, dy, wants, grads, kernels);
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
