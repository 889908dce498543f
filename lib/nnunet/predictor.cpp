#include "nnunet/predictor.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "exec/executor.h"
#include "exec/planner.h"
#include "kernel_table.h"
#include "nnunet/gaussian.h"
#include "nnunet/logit_accumulator.h"
#include "nnunet/preprocess.h"
#include "nnunet/resample.h"
#include "nnunet/sliding_window.h"
#include "nnunet/streaming_export.h"

namespace vx::nnunet {

namespace {

const nlohmann::json& nnunet_meta(const Model& model) {
  if (!model.metadata.is_object() || !model.metadata.contains("nnunet"))
    fail(Status::invalid_argument, "not an imported nnU-Net model (no metadata.nnunet; import one with "
                                   "weights/convert.py --from-nnunet)");
  return model.metadata["nnunet"];
}

std::string fold_name(const nlohmann::json& f) { return f.is_string() ? f.get<std::string>() : f.dump(); }

// The output of each requested fold, in the order asked (every fold when none is).
std::vector<std::pair<std::string, std::string>> select_folds(const Model& model, const std::vector<std::string>& want) {
  const auto& nn = nnunet_meta(model);
  const auto have = model_folds(model);
  std::vector<std::string> outputs;
  if (nn.contains("outputs")) outputs = nn["outputs"].get<std::vector<std::string>>();
  for (const auto& f : have)
    if (outputs.size() < have.size()) outputs.push_back("logits_fold_" + f);
  std::string list;
  for (const auto& f : have) list += (list.empty() ? "" : ", ") + f;
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& w : want.empty() ? have : want) {
    const auto it = std::find(have.begin(), have.end(), w);
    if (it == have.end()) fail(Status::invalid_argument, "the model has no fold '" + w + "' (it holds folds " + list + ")");
    for (const auto& o : out)
      if (o.first == w) fail(Status::invalid_argument, "fold '" + w + "' is asked for twice");
    out.emplace_back(w, outputs[size_t(it - have.begin())]);
  }
  if (out.empty()) fail(Status::corrupt_file, "the model lists no folds");
  return out;
}

// The nodes and weights one fold output needs (the folds share only the graph input).
std::shared_ptr<const Graph> fold_graph(const Graph& g, const std::string& output) {
  std::map<std::string, int> producer;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& o : g.nodes[i].outputs) producer[o] = int(i);
  if (!producer.count(output)) fail(Status::corrupt_file, "the model graph does not produce '" + output + "'");
  std::vector<bool> need(g.nodes.size(), false);
  std::vector<std::string> todo{output};
  std::set<std::string> seen{output};
  while (!todo.empty()) {
    const std::string t = todo.back();
    todo.pop_back();
    const auto p = producer.find(t);
    if (p == producer.end() || need[size_t(p->second)]) continue;
    need[size_t(p->second)] = true;
    for (const auto& in : g.nodes[size_t(p->second)].inputs)
      if (!in.empty() && seen.insert(in).second) todo.push_back(in);
  }
  auto out = std::make_shared<Graph>();
  out->inputs = g.inputs;
  out->outputs = {output};
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (need[i]) {
      out->nodes.push_back(g.nodes[i]);
      for (const auto& in : g.nodes[i].inputs) {
        const auto w = g.weights.find(in);
        if (w != g.weights.end()) out->weights.insert(*w);  // shares the storage
      }
    }
  return out;
}

struct Geometry {
  Plan plan;
  Dims dims{};                   // reader order [nz, ny, nx]
  std::vector<double> spacing;   // reader order (NibabelIO: zooms reversed)
  std::vector<int64_t> patch;    // 2 or 3 axes
  std::array<int64_t, 3> patch3{};  // a 2-D patch as [1, h, w]
};

Geometry geometry(const Model& model, const std::vector<Volume>& channels, const PredictOptions& o) {
  Geometry g;
  g.plan = plan_from_metadata(nnunet_meta(model));
  if (o.tile_step_size != 0) {
    if (!(o.tile_step_size > 0 && o.tile_step_size <= 1))
      fail(Status::invalid_argument, "the tile step must be in (0, 1], got " + std::to_string(o.tile_step_size));
    g.plan.tile_step_size = o.tile_step_size;
  }
  if (channels.size() != g.plan.channels.size()) {
    std::string names;
    for (const auto& c : g.plan.channels) names += (names.empty() ? "" : ", ") + c.name;
    fail(Status::invalid_argument, "the model takes " + std::to_string(g.plan.channels.size()) + " input(s) (" + names +
                                       "), got " + std::to_string(channels.size()));
  }
  for (const auto& v : channels) validate_volume(v);
  const auto& v0 = channels[0];
  g.dims = {v0.nz(), v0.ny(), v0.nx()};
  const auto sp = spacing(v0);
  g.spacing = {sp[2], sp[1], sp[0]};
  for (size_t c = 1; c < channels.size(); ++c) {
    if (channels[c].data.shape() != v0.data.shape())
      fail(Status::shape_mismatch, "input " + std::to_string(c + 1) + " has shape " + channels[c].data.shape().str() +
                                       ", input 1 " + v0.data.shape().str() + " (nnU-Net takes channels on one grid)");
    const auto s = spacing(channels[c]);
    for (int a = 0; a < 3; ++a)
      if (std::fabs(s[a] - sp[a]) > 1e-5 * std::max(1.0, sp[a]))
        fail(Status::shape_mismatch, "input " + std::to_string(c + 1) + " has another voxel spacing than input 1");
  }
  g.patch = g.plan.patch_size;
  g.patch3 = g.patch.size() == 2 ? std::array<int64_t, 3>{1, g.patch[0], g.patch[1]}
                                 : std::array<int64_t, 3>{g.patch[0], g.patch[1], g.patch[2]};
  return g;
}

int64_t prod(const std::array<int64_t, 3>& d) { return d[0] * d[1] * d[2]; }

// The axes of one mirror pass, in [C, a, b, c] tile terms, as nnU-Net's combinations of the
// allowed axes (all singles, then pairs, ...).
std::vector<std::vector<int>> mirror_passes(const std::vector<int>& axes, size_t patch_rank) {
  for (int a : axes)
    if (a < 0 || size_t(a) >= patch_rank)
      fail(Status::corrupt_file, "nnU-Net metadata: mirroring axis " + std::to_string(a) + " outside the patch");
  const int shift = patch_rank == 2 ? 1 : 0;
  std::vector<std::vector<int>> out;
  const size_t n = axes.size();
  for (size_t k = 1; k <= n; ++k) {
    // combinations of k out of n, lexicographic (itertools.combinations)
    std::vector<size_t> idx(k);
    for (size_t i = 0; i < k; ++i) idx[i] = i;
    while (true) {
      std::vector<int> c;
      for (size_t i : idx) c.push_back(axes[i] + shift);
      out.push_back(c);
      size_t i = k;
      while (i > 0 && idx[i - 1] == n - k + i - 1) --i;
      if (i == 0) break;
      ++idx[i - 1];
      for (size_t j = i; j < k; ++j) idx[j] = idx[j - 1] + 1;
    }
  }
  return out;
}

// out = in flipped along `axes` (0..2 of [ch, d0, d1, d2]).
void flip(const float* in, float* out, int64_t ch, const std::array<int64_t, 3>& d, const std::vector<int>& axes) {
  bool f[3] = {false, false, false};
  for (int a : axes) f[a] = true;
  const int64_t n = prod(d);
  for (int64_t c = 0; c < ch; ++c)
    for (int64_t i = 0; i < d[0]; ++i)
      for (int64_t j = 0; j < d[1]; ++j) {
        const int64_t si = f[0] ? d[0] - 1 - i : i, sj = f[1] ? d[1] - 1 - j : j;
        const float* src = in + c * n + (si * d[1] + sj) * d[2];
        float* dst = out + c * n + (i * d[1] + j) * d[2];
        if (f[2]) {
          for (int64_t k = 0; k < d[2]; ++k) dst[k] = src[d[2] - 1 - k];
        } else {
          std::copy(src, src + d[2], dst);
        }
      }
}

Shape tile_shape(int64_t ch, const Geometry& g) {
  return g.patch.size() == 2 ? Shape{1, ch, g.patch[0], g.patch[1]} : Shape{1, ch, g.patch[0], g.patch[1], g.patch[2]};
}

}  // namespace

std::vector<std::string> model_folds(const Model& model) {
  const auto& nn = nnunet_meta(model);
  std::vector<std::string> out;
  if (!nn.contains("folds")) fail(Status::corrupt_file, "nnU-Net metadata: missing 'folds'");
  if (nn["folds"].is_array()) {
    for (const auto& f : nn["folds"]) out.push_back(fold_name(f));
  } else {
    out.push_back(fold_name(nn["folds"]));
  }
  return out;
}

int64_t estimate_peak_bytes(const Model& model, const std::vector<Volume>& channels, const PredictOptions& o) {
  const Geometry g = geometry(model, channels, o);
  const auto folds = select_folds(model, o.folds);
  const Plan& p = g.plan;
  const int64_t C = int64_t(channels.size()), H = p.heads, N = prod(g.dims);
  // Network grid without the crop (an upper bound of the cropped one).
  const auto& tf = p.transpose_forward;
  std::vector<int64_t> td{g.dims[size_t(tf[0])], g.dims[size_t(tf[1])], g.dims[size_t(tf[2])]};
  std::vector<double> st{g.spacing[size_t(tf[0])], g.spacing[size_t(tf[1])], g.spacing[size_t(tf[2])]};
  const auto ns = compute_new_shape(td, st, target_spacing(p, st));
  std::array<int64_t, 3> net{}, pad{};
  for (int a = 0; a < 3; ++a) {
    net[size_t(a)] = ns[size_t(a)];
    pad[size_t(a)] = std::max(ns[size_t(a)], g.patch3[size_t(a)] * (a == 0 && g.patch.size() == 2 ? 0 : 1));
  }
  const int64_t Nn = prod(net), Np = prod(pad), T = prod(g.patch3);
  const auto kind = o.fp32_accumulation ? LogitAccumulator::Kind::fp32 : LogitAccumulator::Kind::fp16;
  const int64_t L = int64_t(LogitStore::bytes_per_value(kind == LogitAccumulator::Kind::fp16));  // a stored logit
  int64_t weights = 0, arena = 0;
  for (const auto& w : model.graph->weights) weights += int64_t(w.second.nbytes());
  for (const auto& f : folds) {
    const auto fg = fold_graph(*model.graph, f.second);
    const auto order = fg->topological_order();
    const auto shapes = infer_shapes(*fg, order, {tile_shape(C, g)});
    arena = std::max<int64_t>(arena, int64_t(plan_memory(*fg, order, shapes).arena_bytes));
  }
  // the process itself (code, OpenMP and kernel libraries: ~55 MB measured for `voxinfer info`),
  // the model and the inputs, held throughout
  const int64_t resident = (int64_t(64) << 20) + weights + C * N * 4;
  // preprocess: the channels' copy and their transposed copy, crop, mask, one channel in float64
  // and the resampler's working copy of it, its resampled copy (twice for separate z), the output
  const int64_t pre = 2 * C * N * 4 + N * 4 + 2 * N + 2 * N * 8 + 2 * Nn * 8 + C * Nn * 4;
  // sliding window: preprocessed + padded input, the accumulator, tile in/out buffers (mirrored
  // copies, engine outputs), the engine arena, the fold sum (a fold is finished in the
  // accumulator's own buffer, LogitAccumulator::take, and the first one becomes the sum)
  const int64_t tiles = C * Nn * 4 + C * Np * 4 + LogitAccumulator::bytes_needed(H, pad, kind) + 2 * C * T * 4 +
                        4 * H * T * 4 + arena + H * Nn * L;
  // export, one head at a time: the fold average, one head in float64 and resampled (net and
  // native), the running maximum, labels (cropped, pasted, transposed); probabilities keep every head
  int64_t exp = H * Nn * L + Nn * 8 + 2 * std::max(Nn, N) * 8 + N * 4 + N * 4 + 3 * N * 2;
  if (o.probabilities) exp += H * N * 4 * 2 + N * 4 * 2;
  return resident + std::max({pre, tiles, exp});
}

Prediction predict(const Model& model, const std::vector<Volume>& channels, const PredictOptions& o) {
  const Geometry g = geometry(model, channels, o);
  const auto folds = select_folds(model, o.folds);
  const Plan& plan = g.plan;
  Prediction result;
  result.heads = plan.heads;
  result.labels_fit_uint8 = plan.max_label < 255;
  for (const auto& f : folds) result.folds.push_back(f.first);
  result.estimated_peak_bytes = estimate_peak_bytes(model, channels, o);
  if (o.memory_limit_bytes > 0 && result.estimated_peak_bytes > o.memory_limit_bytes) {
    const int64_t mb = (result.estimated_peak_bytes + (1 << 20) - 1) >> 20;
    fail(Status::limit_exceeded, "nnU-Net prediction needs about " + std::to_string(mb) + " MB, over the memory limit of " +
                                     std::to_string(o.memory_limit_bytes >> 20) + " MB");
  }
  const auto cancelled = [&](const std::string& stage, int64_t done, int64_t total) {
    if (o.progress && o.progress(stage, done, total)) fail(Status::cancelled, "nnU-Net prediction cancelled");
  };
  const auto kind = o.fp32_accumulation ? LogitAccumulator::Kind::fp32 : LogitAccumulator::Kind::fp16;
  const int64_t C = int64_t(channels.size()), H = plan.heads;

  cancelled("preprocess", 0, 1);
  Preprocessed pre;
  {
    std::vector<std::vector<float>> raw;
    for (const auto& v : channels) raw.emplace_back(v.voxels(), v.voxels() + v.data.numel());
    pre = preprocess_case(raw, g.dims, g.spacing, plan);
  }
  cancelled("preprocess", 1, 1);

  // pad_nd_image: zeros around, centred
  const std::vector<int64_t> shape{pre.shape[0], pre.shape[1], pre.shape[2]};
  const PadPlan pp = pad_to_patch(shape, g.patch);
  const std::array<int64_t, 3> padded{pp.padded[0], pp.padded[1], pp.padded[2]};
  const std::array<int64_t, 3> below{pp.below[0], pp.below[1], pp.below[2]};
  const int64_t Nn = prod(pre.shape), Np = prod(padded);
  std::vector<float> input(size_t(C * Np), 0.0f);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < shape[0]; ++i)
      for (int64_t j = 0; j < shape[1]; ++j) {
        const float* src = pre.data.data() + c * Nn + (i * shape[1] + j) * shape[2];
        std::copy(src, src + shape[2],
                  input.begin() + c * Np + ((i + below[0]) * padded[1] + j + below[1]) * padded[2] + below[2]);
      }
  std::vector<float>().swap(pre.data);

  const auto tiles = tile_grid(padded, g.patch, plan.tile_step_size);
  const auto gaussian = compute_gaussian(g.patch, plan.sigma_scale, plan.value_scaling);
  const auto passes = o.mirroring ? mirror_passes(plan.mirror_axes, g.patch.size()) : std::vector<std::vector<int>>{};
  result.tiles = int64_t(tiles.size());
  const std::array<int64_t, 3>& p3 = g.patch3;
  const int64_t T = prod(p3);
  const Shape in_shape = tile_shape(C, g);
  Tensor x = Tensor::empty(in_shape), xf = Tensor::empty(in_shape);
  std::vector<float> pred(size_t(H * T)), back(size_t(H * T)), unflipped(size_t(H * T));
  LogitStore sum;
  const int64_t total = int64_t(tiles.size() * folds.size());
  int64_t done = 0;
  for (const auto& fold : folds) {
    Executor ex(fold_graph(*model.graph, fold.second), kern::default_kernels());
    const auto run = [&](const Tensor& t, float* out) {
      const auto y = ex.run({t});
      if (y.size() != 1 || y[0].numel() != H * T)
        fail(Status::corrupt_file, "fold output '" + fold.second + "' does not have " + std::to_string(H) + " heads x patch");
      const Tensor yc = y[0].is_contiguous() ? y[0] : y[0].clone();
      std::copy(yc.f32(), yc.f32() + H * T, out);
    };
    LogitAccumulator acc(H, padded, g.patch, gaussian, kind);
    for (const auto& tile : tiles) {
      cancelled("tiles", done, total);
      float* xt = x.f32();
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < p3[0]; ++i)
          for (int64_t j = 0; j < p3[1]; ++j) {
            const float* src =
                input.data() + c * Np + ((tile.start[0] + i) * padded[1] + tile.start[1] + j) * padded[2] + tile.start[2];
            std::copy(src, src + p3[2], xt + c * T + (i * p3[1] + j) * p3[2]);
          }
      run(x, pred.data());
      ++result.network_runs;
      // predict_tile: the mirrored predictions flipped back and summed in float32, then divided
      for (const auto& axes : passes) {
        flip(x.f32(), xf.f32(), C, p3, axes);
        run(xf, back.data());
        ++result.network_runs;
        flip(back.data(), unflipped.data(), H, p3, axes);
        for (int64_t k = 0; k < H * T; ++k) pred[size_t(k)] += unflipped[size_t(k)];
      }
      if (!passes.empty()) {
        const float n = float(passes.size() + 1);
        for (float& v : pred) v /= n;
      }
      acc.add_tile(tile, pred.data());
      ++done;
    }
    add_fold(sum, acc.take(below, pre.shape));
  }
  cancelled("tiles", done, total);
  std::vector<float>().swap(input);
  divide_folds(sum, int64_t(folds.size()));

  cancelled("export", 0, 1);
  auto ex = export_streaming(std::move(sum), pre.shape, pre, plan, o.probabilities);
  result.labels = std::move(ex.labels);
  result.probabilities = std::move(ex.probabilities);
  cancelled("export", 1, 1);
  return result;
}

}  // namespace vx::nnunet
