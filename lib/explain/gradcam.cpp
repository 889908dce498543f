#include "explain/gradcam.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "explain/backward.h"
#include "ops/spatial.h"

namespace vx::explain {
namespace {

std::map<std::string, int> producers(const Graph& g) {
  std::map<std::string, int> p;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& o : g.nodes[i].outputs) p[o] = static_cast<int>(i);
  return p;
}

bool is_graph_input(const Graph& g, const std::string& t) {
  for (const auto& in : g.inputs)
    if (in.name == t) return true;
  return false;
}

// A node name names its first output; a tensor name names itself.
std::string resolve_name(const Graph& g, const std::map<std::string, int>& prod, const std::string& name) {
  const int n = g.find_node(name);
  if (n >= 0) return g.nodes[n].outputs[0];
  if (prod.count(name) || is_graph_input(g, name)) return name;
  fail(Status::invalid_argument, "unknown Grad-CAM layer '" + name + "': no node or tensor has that name");
}

// The op's Grad-CAM role (OpDef::explain_traits, in its file under lib/ops/).
ExplainTraits traits_of(const Node& n) {
  const OpDef* op = find_op(n.op);
  return op ? op->explain_traits() : ExplainTraits{};
}

// The default layer: the input of the first global pooling; without one, the last Conv's
// output followed through the shape-preserving ops of its stage (BN, activation, residual add).
std::string default_layer(const Model& model, const std::map<std::string, int>& prod) {
  const Graph& g = *model.graph;
  for (int idx : model.order)
    if (traits_of(g.nodes[idx]).global_pool) return g.nodes[idx].inputs[0];
  int last_conv = -1;
  for (int idx : model.order)
    if (traits_of(g.nodes[idx]).feature_map) last_conv = idx;
  if (last_conv < 0)
    fail(Status::invalid_argument, "no Grad-CAM layer given and the model has no convolution to choose one from");
  std::string t = g.nodes[last_conv].outputs[0];
  for (;;) {
    int consumer = -1, count = 0;
    for (int idx : model.order)
      for (const auto& in : g.nodes[idx].inputs)
        if (in == t) {
          consumer = idx;
          ++count;
        }
    if (count != 1 || !traits_of(g.nodes[consumer]).stage) break;
    t = g.nodes[consumer].outputs[0];
  }
  (void)prod;
  return t;
}

// Structural signature of a tensor: weights by name, graph inputs interchangeable.
std::string signature(const Graph& g, const std::map<std::string, int>& prod, const std::string& t, int depth) {
  if (g.weights.count(t)) return "W:" + t;
  auto it = prod.find(t);
  if (it == prod.end()) return "IN";
  if (depth == 0) return "*";
  const Node& n = g.nodes[it->second];
  std::string s = n.op + "[" + std::to_string(std::find(n.outputs.begin(), n.outputs.end(), t) - n.outputs.begin()) + "](";
  for (const auto& in : n.inputs) s += (in.empty() ? std::string("-") : signature(g, prod, in, depth - 1)) + ",";
  return s + ")";
}

// Graph inputs a tensor depends on, in graph-input order.
std::vector<std::string> source_inputs(const Graph& g, const std::map<std::string, int>& prod, const std::string& t) {
  std::set<std::string> seen, found;
  std::vector<std::string> stack = {t};
  while (!stack.empty()) {
    std::string cur = stack.back();
    stack.pop_back();
    if (!seen.insert(cur).second) continue;
    if (is_graph_input(g, cur)) found.insert(cur);
    auto it = prod.find(cur);
    if (it == prod.end()) continue;
    for (const auto& in : g.nodes[it->second].inputs)
      if (!in.empty()) stack.push_back(in);
  }
  std::vector<std::string> r;
  for (const auto& in : g.inputs)
    if (found.count(in.name)) r.push_back(in.name);
  return r;
}

// The raw-logit tensor: the graph's first output, or the input of a final Softmax/Sigmoid.
std::string logit_tensor(const Graph& g, const std::map<std::string, int>& prod) {
  std::string out = g.outputs[0];
  auto it = prod.find(out);
  if (it != prod.end()) {
    if (traits_of(g.nodes[it->second]).squashes_logits) return g.nodes[it->second].inputs[0];
  }
  return out;
}

bool metadata_align_corners(const Model& model, int option) {
  if (option >= 0) return option != 0;
  const auto& md = model.metadata;
  if (md.is_object() && md.contains("preprocessing") && md["preprocessing"].is_object() &&
      md["preprocessing"].contains("align_corners") && md["preprocessing"]["align_corners"].is_boolean())
    return md["preprocessing"]["align_corners"].get<bool>();
  return true;
}

// Per sample: the class and the seed gradient d(score)/d(logits) (one-hot, or a region mask).
struct Target {
  std::vector<int64_t> cls;
  Tensor dseed;
  std::vector<float> score;
};

Target make_target(const Tensor& logits, int64_t want, const Tensor& region) {
  const Shape& s = logits.shape();
  if (s.rank < 2) fail(Status::shape_mismatch, "the model's logits " + s.str() + " have no class axis");
  const int64_t n = s[0], k = s[1], sp = s.prod(2, s.rank);
  if (want >= k || want < -1)
    fail(Status::invalid_argument, "class " + std::to_string(want) + " is out of range: the model has " +
                                       std::to_string(k) + " output classes (0.." + std::to_string(k - 1) + ")");
  Tensor lc = logits.is_contiguous() ? logits : logits.clone();
  const float* l = lc.f32();
  Target t;
  t.dseed = Tensor::zeros(s);
  float* d = t.dseed.f32();
  if (region.defined() && region.numel() != sp && region.numel() != n * sp)
    fail(Status::shape_mismatch, "the region mask has " + std::to_string(region.numel()) +
                                     " values, the output grid has " + std::to_string(sp));
  Tensor rc = region.defined() ? (region.is_contiguous() ? region : region.clone()) : Tensor();
  for (int64_t b = 0; b < n; ++b) {
    const float* lb = l + b * k * sp;
    int64_t c = want;
    if (c < 0) {  // argmax of the logits (averaged over space for segmentation)
      double best = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < k; ++j) {
        double m = 0;
        for (int64_t i = 0; i < sp; ++i) m += lb[j * sp + i];
        if (m > best) {
          best = m;
          c = j;
        }
      }
    }
    float score = 0.f;
    for (int64_t i = 0; i < sp; ++i) {
      float w;
      if (sp == 1) {
        w = 1.f;
      } else if (rc.defined()) {
        w = rc.f32()[(rc.numel() == sp ? 0 : b * sp) + i] != 0.f ? 1.f : 0.f;
      } else {  // the voxels predicted as c (ties to the lowest class, as argmax)
        int64_t arg = 0;
        for (int64_t j = 1; j < k; ++j)
          if (lb[j * sp + i] > lb[arg * sp + i]) arg = j;
        w = arg == c ? 1.f : 0.f;
      }
      d[(b * k + c) * sp + i] = w;
      score += w * lb[c * sp + i];
    }
    t.cls.push_back(c);
    t.score.push_back(score);
  }
  return t;
}

// cam [N, 1, layer grid] -> [N, 1, input grid], clamped, normalised per sample.
CamMap finish_map(const Tensor& cam, const Shape& grid, bool resize, bool align_corners,
                  const kern::KernelTable& kernels) {
  Spatial sl = spatial_of(cam.shape(), "Grad-CAM layer");
  Tensor out = cam;
  if (resize && grid.rank == cam.rank()) {
    Spatial sg = spatial_of(grid, "Grad-CAM input");
    kern::ResizeParams p;
    p.n = sl.n;
    p.c = 1;
    for (int i = 0; i < 3; ++i) {
      p.in[i] = sl.ext[i];
      p.out[i] = sg.ext[i];
      p.ratio[i] = static_cast<double>(p.in[i]) / static_cast<double>(p.out[i]);
    }
    p.mode = kern::ResizeMode::linear;
    p.align_corners = align_corners;
    out = Tensor::empty(spatial_shape(sl.nd, sl.n, 1, sg.ext));
    kernels.resize(p, cam.f32(), out.f32());
  }
  CamMap m;
  const int64_t per = out.numel() / sl.n;
  float* v = out.f32();
  for (int64_t b = 0; b < sl.n; ++b) {
    float* x = v + b * per;
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    for (int64_t i = 0; i < per; ++i) {
      x[i] = std::max(x[i], 0.f);
      lo = std::min(lo, x[i]);
      hi = std::max(hi, x[i]);
    }
    m.raw_max.push_back(hi);
    for (int64_t i = 0; i < per; ++i) x[i] = hi > lo ? (x[i] - lo) / (hi - lo) : 0.f;
  }
  m.map = out;
  return m;
}

}  // namespace

std::vector<std::string> resolve_cam_layers(const Model& model, const CamOptions& options) {
  require(model.graph != nullptr, Status::invalid_argument, "Grad-CAM needs a model with a graph");
  const Graph& g = *model.graph;
  const auto prod = producers(g);
  std::vector<std::string> names = options.layers;
  if (names.empty()) names = metadata_gradcam_layers(model);
  std::vector<std::string> layers;
  if (names.empty()) layers.push_back(default_layer(model, prod));
  for (const auto& n : names) layers.push_back(resolve_name(g, prod, n));
  if (options.all_applications) {
    std::vector<std::string> more;
    for (const auto& t : layers) {
      const std::string sig = signature(g, prod, t, options.match_depth);
      if (sig.find("W:") == std::string::npos) continue;  // nothing to tell applications apart by
      auto pt = prod.find(t);
      if (pt == prod.end()) continue;
      for (int idx : model.order)
        for (const auto& o : g.nodes[idx].outputs)
          if (o != t && g.nodes[idx].op == g.nodes[pt->second].op && signature(g, prod, o, options.match_depth) == sig)
            more.push_back(o);
    }
    layers.insert(layers.end(), more.begin(), more.end());
  }
  // Unique, in execution order.
  std::vector<std::string> ordered;
  std::set<std::string> want(layers.begin(), layers.end());
  for (const auto& in : g.inputs)
    if (want.count(in.name)) ordered.push_back(in.name);
  for (int idx : model.order)
    for (const auto& o : g.nodes[idx].outputs)
      if (want.count(o) && std::find(ordered.begin(), ordered.end(), o) == ordered.end()) ordered.push_back(o);
  return ordered;
}

CamResult grad_cam(const Model& model, const std::vector<Tensor>& inputs, const CamOptions& options,
                   const kern::KernelTable& kernels) {
  require_backward_kernels(kernels);  // a device table: refused before anything runs on it
  const std::vector<std::string> layers = resolve_cam_layers(model, options);
  const Graph& g = *model.graph;
  const auto prod = producers(g);
  const std::string seed = logit_tensor(g, prod);
  std::vector<int> order = model.order.empty() ? g.topological_order() : model.order;
  BackwardPlan plan = plan_backward(g, order, seed, layers);

  Executor ex(model.graph, kernels);
  ExecOptions eo;
  eo.keep = plan.needed;
  eo.keep.insert(seed);
  ex.run(inputs, eo);
  for (const auto& t : layers) {
    const Shape& s = ex.shapes().at(t);
    if (s.rank != 4 && s.rank != 5)
      fail(Status::shape_mismatch, "Grad-CAM layer '" + t + "' must be [N, C, (D,) H, W], it is " + s.str());
  }
  Target target = make_target(ex.tensor(seed), options.target_class, options.region);
  std::map<std::string, Tensor> grads = run_backward(plan, ex, target.dseed, kernels);

  CamResult r;
  r.target_class = target.cls;
  r.score = target.score;
  const bool align = metadata_align_corners(model, options.align_corners);
  for (const auto& t : layers) {
    Tensor a = ex.tensor(t);
    a = a.is_contiguous() ? a : a.clone();
    const Tensor& gr = grads.at(t);
    const Shape& s = a.shape();
    const int64_t n = s[0], c = s[1], sp = s.prod(2, s.rank);
    Shape cs = s;
    cs[1] = 1;
    Tensor cam = Tensor::zeros(cs);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch) {
        const float* ga = gr.f32() + (b * c + ch) * sp;
        const float* aa = a.f32() + (b * c + ch) * sp;
        double w = 0;
        if (options.method == CamMethod::gradcam) {
          for (int64_t i = 0; i < sp; ++i) w += ga[i];
          w /= static_cast<double>(sp);
        } else {
          float sum_a = 0.f;
          for (int64_t i = 0; i < sp; ++i) sum_a += aa[i];
          for (int64_t i = 0; i < sp; ++i) {
            if (ga[i] == 0.f) continue;
            const float g2 = ga[i] * ga[i], g3 = g2 * ga[i];
            const float alpha = g2 / (2.f * g2 + sum_a * g3 + 1e-6f);
            w += std::max(ga[i], 0.f) * alpha;
          }
        }
        float* o = cam.f32() + b * sp;
        const float wf = static_cast<float>(w);
        for (int64_t i = 0; i < sp; ++i) o[i] += wf * aa[i];
      }
    const std::vector<std::string> src = source_inputs(g, prod, t);
    Shape grid = cs;
    std::string input_name;
    if (!src.empty()) {
      input_name = src[0];
      for (size_t i = 0; i < g.inputs.size(); ++i)
        if (g.inputs[i].name == input_name) grid = inputs.at(i).shape();
    }
    CamMap m = finish_map(cam, grid, options.resize_to_input, align, kernels);
    m.layer = t;
    m.input = input_name;
    r.maps.push_back(std::move(m));
  }
  return r;
}

Tensor occlusion_sensitivity(const Model& model, const std::vector<Tensor>& inputs, const OcclusionOptions& opt,
                             const kern::KernelTable& kernels) {
  require(model.graph != nullptr, Status::invalid_argument, "occlusion needs a model with a graph");
  const Graph& g = *model.graph;
  if (opt.input_index < 0 || opt.input_index >= static_cast<int>(inputs.size()))
    fail(Status::invalid_argument, "occlusion input index " + std::to_string(opt.input_index) + " out of range");
  for (const auto& t : inputs)
    if (!t.defined() || t.dim(0) != 1) fail(Status::invalid_argument, "occlusion needs inputs with batch size 1");
  for (int i = 0; i < 3; ++i)
    if (opt.patch[i] < 1 || opt.stride[i] < 1)
      fail(Status::invalid_argument, "occlusion patch sizes and strides must be >= 1");
  const auto prod = producers(g);
  const std::string seed = logit_tensor(g, prod);
  Executor ex(model.graph, kernels);
  ExecOptions eo;
  eo.keep = {seed};
  ex.run(inputs, eo);
  const Target base = make_target(ex.tensor(seed), opt.target_class, Tensor());
  const Tensor mask = base.dseed;  // [1, K, ...]: the class (and region) whose score is tracked
  const int64_t per_sample = mask.numel();

  const Tensor& x = inputs[opt.input_index];
  Spatial s = spatial_of(x.shape(), "occluded input");
  // Patch starts per axis: every stride, plus one flush with the end so the edge is covered.
  std::vector<int64_t> starts[3];
  for (int a = 0; a < 3; ++a) {
    const int64_t ext = s.ext[a], p = std::min(s.nd == 2 && a == 0 ? 1 : opt.patch[a], ext);
    const int64_t st = s.nd == 2 && a == 0 ? 1 : opt.stride[a];
    for (int64_t v = 0; v + p <= ext; v += st) starts[a].push_back(v);
    if (starts[a].back() + p < ext) starts[a].push_back(ext - p);
  }
  auto patch_len = [&](int a) { return std::min(s.nd == 2 && a == 0 ? 1 : opt.patch[a], s.ext[a]); };
  struct Pos {
    int64_t z, y, x;
  };
  std::vector<Pos> all;
  for (int64_t z : starts[0])
    for (int64_t y : starts[1])
      for (int64_t xx : starts[2]) all.push_back({z, y, xx});

  const bool free_batch = g.inputs[opt.input_index].shape[0] == -1;
  const int64_t batch = free_batch ? std::max<int64_t>(1, opt.batch) : 1;
  const int64_t sp = s.ext[0] * s.ext[1] * s.ext[2];
  std::vector<double> sum(static_cast<size_t>(sp), 0.0);
  std::vector<int64_t> count(static_cast<size_t>(sp), 0);
  Tensor xc = x.is_contiguous() ? x : x.clone();
  for (size_t first = 0; first < all.size(); first += static_cast<size_t>(batch)) {
    const int64_t b = std::min<int64_t>(batch, static_cast<int64_t>(all.size() - first));
    std::vector<Tensor> in;
    for (size_t i = 0; i < inputs.size(); ++i) {
      Shape bs = inputs[i].shape();
      bs[0] = b;
      Tensor t = Tensor::empty(bs);
      for (int64_t k = 0; k < b; ++k) t.slice(0, k, 1).copy_from(inputs[i]);
      in.push_back(t);
    }
    float* d = in[opt.input_index].f32();
    for (int64_t k = 0; k < b; ++k) {
      const Pos& p = all[first + k];
      for (int64_t c = 0; c < s.c; ++c)
        for (int64_t z = p.z; z < p.z + patch_len(0); ++z)
          for (int64_t y = p.y; y < p.y + patch_len(1); ++y)
            for (int64_t xx = p.x; xx < p.x + patch_len(2); ++xx)
              d[(k * s.c + c) * sp + (z * s.ext[1] + y) * s.ext[2] + xx] = opt.baseline;
    }
    ex.run(in, eo);
    Tensor lg = ex.tensor(seed);
    lg = lg.is_contiguous() ? lg : lg.clone();
    for (int64_t k = 0; k < b; ++k) {
      double score = 0;
      for (int64_t i = 0; i < per_sample; ++i) score += static_cast<double>(mask.f32()[i]) * lg.f32()[k * per_sample + i];
      const double drop = base.score[0] - score;
      const Pos& p = all[first + k];
      for (int64_t z = p.z; z < p.z + patch_len(0); ++z)
        for (int64_t y = p.y; y < p.y + patch_len(1); ++y)
          for (int64_t xx = p.x; xx < p.x + patch_len(2); ++xx) {
            const int64_t v = (z * s.ext[1] + y) * s.ext[2] + xx;
            sum[v] += drop;
            ++count[v];
          }
    }
  }
  Tensor out = Tensor::empty(spatial_shape(s.nd, 1, 1, s.ext));
  for (int64_t v = 0; v < sp; ++v) out.f32()[v] = count[v] ? static_cast<float>(sum[v] / count[v]) : 0.f;
  return out;
}

}  // namespace vx::explain
