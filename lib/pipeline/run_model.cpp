#include "pipeline/run_model.h"

#include <chrono>

#include "explain/gradcam.h"
#include "pipeline/scan_montage.h"
#include "image/geometry.h"
#include "io/nifti.h"
#include "io/volume_io.h"
#include "pipeline/model_meta.h"
#include "pipeline/postprocess.h"
#include "pipeline/sliding_window.h"
#include "pipeline/staging.h"
#include "preprocess/sij_recipe.h"

namespace vx::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string output_kind(const Model& m, size_t k) {
  const auto& md = m.metadata;
  if (md.contains("outputs") && md["outputs"].is_array() && md["outputs"].size() > k && md["outputs"][k].contains("kind") &&
      md["outputs"][k]["kind"].is_string())
    return md["outputs"][k]["kind"].get<std::string>();
  return "logits";
}

}  // namespace

nlohmann::json run_model_on_scans(const Model& model, const std::vector<std::string>& inputs, const std::string& out_dir,
                                  const RunOptions& opt) {
  const Graph& g = *model.graph;
  if (inputs.size() != g.inputs.size())
    fail(Status::invalid_argument, "the model takes " + std::to_string(g.inputs.size()) + " scan(s) (--input), got " +
                                       std::to_string(inputs.size()));
  const int rank = g.inputs[0].shape.rank;
  if (rank != 4 && rank != 5) fail(Status::unsupported, "voxinfer run needs an image model (4-D or 5-D input), this one takes " + g.inputs[0].shape.str());
  if (rank == 4 && inputs.size() != 1) fail(Status::unsupported, "2-D models are run slice by slice on a single scan");
  auto stage = [&](const std::string& s, int64_t d, int64_t t) {
    if (opt.progress && opt.progress(s, d, t)) fail(Status::cancelled, "cancelled during " + s);
  };
  nlohmann::json summary, timings;
  const auto t_all = Clock::now();

  auto t0 = Clock::now();
  std::vector<Volume> original, net;
  for (size_t i = 0; i < inputs.size(); ++i) {
    original.push_back(read_volume(inputs[i], opt.read));
    stage("read", i + 1, inputs.size());
  }
  // Every scan on the first scan's grid, then through the declared plan, or else on the
  // model's grid when it has one.
  const auto plan = opt.preprocessing ? preprocess::plan_from_metadata(model.metadata) : std::nullopt;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Volume v = i == 0 ? original[0] : resample_to_reference(original[i], original[0], Interp::linear);
    if (plan) {
      v = preprocess::run_plan(*plan, v).volume;
      if (has_fixed_grid(model, static_cast<int>(i))) {
        const auto grid = model_grid(model, static_cast<int>(i));
        if (v.nx() != grid[2] || v.ny() != grid[1] || (rank == 5 && v.nz() != grid[0]))
          fail(Status::shape_mismatch, "the model's preprocessing plan ends on " + v.data.shape().str() +
                                           " (D, H, W) but its input takes " + g.inputs[i].shape.str());
      }
      stage("preprocess", i + 1, inputs.size());
    } else if (has_fixed_grid(model, static_cast<int>(i))) {
      const auto grid = model_grid(model, static_cast<int>(i));  // D, H, W (D = 1 for 2-D)
      const int64_t d = rank == 5 ? grid[0] : v.nz();
      v = resize(v, {grid[2], grid[1], d}, Interp::linear, true);
    }
    net.push_back(std::move(v));
  }
  std::vector<Normalisation> undo(inputs.size());
  std::vector<Tensor> x;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor t = net[i].data.clone();
    if (!plan) undo[i] = normalise_input(model, static_cast<int>(i), t);  // a plan normalises itself
    x.push_back(t);
  }
  timings["read_preprocess"] = seconds_since(t0);
  summary["preprocessing"] = plan ? nlohmann::json{{"plan", preprocess::plan_to_json(*plan)}}
                                  : nlohmann::json{{"plan", nullptr}, {"declared", preprocess::plan_from_metadata(model.metadata).has_value()}};

  t0 = Clock::now();
  Executor ex(model.graph, kern::default_kernels());
  std::vector<Tensor> outputs;
  std::vector<Tensor> batch;
  if (rank == 5) {
    for (const auto& t : x) batch.push_back(t.reshape({1, 1, t.dim(0), t.dim(1), t.dim(2)}));
    ExecOptions eo;
    eo.progress = [&](int64_t d, int64_t t) { return opt.progress && opt.progress("run", d, t); };
    outputs = ex.run(batch, eo);
  } else {
    SliceOptions so;
    so.batch_size = g.inputs[0].shape[0] == -1 ? 8 : 1;
    so.progress = [&](int64_t d, int64_t t) { return opt.progress && opt.progress("run", d, t); };
    Tensor in = x[0].reshape({1, x[0].dim(0), x[0].dim(1), x[0].dim(2)});
    Tensor y = slice_inference_2d(in, [&](const Tensor& b) { return ex.run({b})[0]; }, so);  // [K, D, H, W]
    outputs.push_back(y.reshape({1, y.dim(0), y.dim(1), y.dim(2), y.dim(3)}));
  }
  timings["run"] = seconds_since(t0);

  t0 = Clock::now();
  Staging out(out_dir);
  const Volume& ref_net = net[0];
  for (size_t k = 0; k < outputs.size(); ++k) {
    const Tensor& y = outputs[k];
    const std::string name = g.outputs[k];
    nlohmann::json entry = {{"name", name}, {"shape", std::vector<int64_t>(y.shape().dims.begin(), y.shape().dims.begin() + y.rank())}};
    const int64_t n = y.dim(0), c = y.rank() >= 2 ? y.dim(1) : 1;
    if (y.numel() == n * c) {  // a vector per sample: class scores
      std::vector<float> logits(y.f32(), y.f32() + c);
      auto p = probabilities(model, logits);
      entry["logits"] = logits;
      entry["probabilities"] = p;
      const int best = static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
      entry["predicted_class"] = best;
      auto names = class_names(model);
      if (best < static_cast<int>(names.size())) entry["predicted_label"] = names[best];
    } else if (y.rank() == 5 && y.dim(2) * y.dim(3) * y.dim(4) == ref_net.data.numel()) {
      const std::string kind = output_kind(model, k);
      const Shape dhw{y.dim(2), y.dim(3), y.dim(4)};
      Volume vol;
      if (kind == "image") {
        vol = volume_like(ref_net, undo[0].undo(y.slice(1, 0, 1).clone().reshape(dhw)));
        vol = resample_to_reference(vol, original[0], Interp::linear);
      } else {
        Tensor labels = argmax(y.slice(0, 0, 1).clone().reshape({c, dhw[0], dhw[1], dhw[2]}));
        vol = resample_to_reference(volume_like(ref_net, labels), original[0], Interp::nearest);
        const auto sp = spacing(vol);
        nlohmann::json volumes;
        auto names = class_names(model);
        for (int64_t cl = 1; cl < c; ++cl) {
          Tensor m = Tensor::zeros(vol.data.shape());
          for (int64_t v = 0; v < m.numel(); ++v) m.f32()[v] = vol.data.f32()[v] == cl ? 1.f : 0.f;
          volumes[cl < (int64_t)names.size() ? names[cl] : std::to_string(cl)] = lesion_volume_ml(m, sp);
        }
        entry["volumes_ml"] = volumes;
        entry["labels"] = "argmax over channels";
      }
      write_nifti(out.path(name + ".nii.gz"), vol);
      entry["nifti"] = name + ".nii.gz";
    } else {
      entry["note"] = "output not written: neither class scores nor a map on the input grid";
    }
    summary["outputs"].push_back(entry);
  }

  if (opt.gradcam) {
    if (rank != 5 || outputs[0].numel() != outputs[0].dim(0) * outputs[0].dim(1))
      fail(Status::unsupported, "--gradcam needs a 3-D classifier (a model whose first output is class scores)");
    stage("gradcam", 0, 1);
    explain::CamResult cam = explain::grad_cam(model, batch);
    for (const auto& map : cam.maps) {
      size_t i = 0;
      while (i < g.inputs.size() && g.inputs[i].name != map.input) ++i;
      if (i == g.inputs.size()) continue;
      const std::string base = lower(sequence_name(model, static_cast<int>(i))) + "_gradcam";
      Volume on_net = volume_like(net[i], map.map);
      Volume back = resample_to_reference(i == 0 ? on_net : resample_to_reference(on_net, original[0], Interp::linear),
                                          original[i], Interp::linear);
      write_nifti(out.path(base + ".nii.gz"), back);
      nlohmann::json e = {{"input", map.input}, {"layer", map.layer}, {"raw_max", map.raw_max.at(0)}, {"nifti", base + ".nii.gz"}};
      if (opt.png) {
        explain::ScanMontageOptions mo;
        mo.title = sequence_name(model, static_cast<int>(i)) + "  Grad-CAM for class " +
                   std::to_string(cam.target_class.at(0)) + "   layer " + map.layer;
        mo.bar_label = "Grad-CAM (relative to its maximum)";
        e["png_slices"] = explain::write_scan_montage_png(out.path(base + ".png"), original[i], back, mo);
        e["png"] = base + ".png";
      }
      summary["gradcam"].push_back(e);
    }
  }
  timings["write"] = seconds_since(t0);
  for (size_t i = 0; i < inputs.size(); ++i)
    summary["inputs"].push_back({{"path", inputs[i]}, {"size_ijk", original[i].size_ijk()}, {"spacing_mm", spacing(original[i])},
                                 {"orientation", axcodes(original[i].affine)}, {"warnings", original[i].header.warnings}});
  summary["model"] = {{"sha256", model.sha256}, {"name", model.metadata.value("name", "")}};
  timings["total"] = seconds_since(t_all);
  summary["timings_s"] = timings;
  std::vector<std::string> files = out.names();
  files.push_back("summary.json");
  summary["files"] = files;
  out.write_text("summary.json", summary.dump(2) + "\n");
  out.commit();
  return summary;
}

}  // namespace vx::pipeline
