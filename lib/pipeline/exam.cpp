#include "pipeline/exam.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "explain/gradcam.h"
#include "pipeline/overlay.h"
#include "pipeline/scan_montage.h"
#include "image/geometry.h"
#include "io/dicom_sc_write.h"
#include "io/dicom_seg_write.h"
#include "io/dicom_source.h"
#include "io/nifti.h"
#include "io/volume_io.h"
#include "pipeline/model_meta.h"
#include "pipeline/postprocess.h"
#include "preprocess/sij_recipe.h"
#include "pipeline/sliding_window.h"
#include "pipeline/staging.h"
#include "voxinfer/voxinfer.h"

namespace fs = std::filesystem;

namespace vx::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

Tensor batch_of_one(const Tensor& dhw) { return dhw.clone().reshape({1, 1, dhw.dim(0), dhw.dim(1), dhw.dim(2)}); }

std::string label_of(const std::vector<std::string>& classes, int k) {
  return k >= 0 && k < static_cast<int>(classes.size()) ? classes[k] : std::to_string(k);
}

std::string fixed3(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}

int index_of(const std::vector<std::string>& names, const std::string& want, int fallback) {
  for (size_t i = 0; i < names.size(); ++i)
    if (lower(names[i]) == want) return static_cast<int>(i);
  return fallback;
}

std::string model_name(const Model& m) {
  return m.metadata.contains("name") && m.metadata["name"].is_string() ? m.metadata["name"].get<std::string>() : "";
}

}  // namespace

ExamModels ExamModels::load_dir(const std::string& dir) {
  const std::string pipeline_file = find_pipeline_file(dir);
  if (!pipeline_file.empty()) return load_pipeline(pipeline_file);
  ExamModels m;
  auto path = [&](const char* name) { return (fs::path(dir) / name).string(); };
  m.classifier = Model::load_file(path("demo_classifier.vxm"));
  if (fs::exists(path("demo_denoiser.vxm"))) m.denoiser = Model::load_file(path("demo_denoiser.vxm"));
  if (fs::exists(path("demo_segmenter.vxm"))) m.segmenter = Model::load_file(path("demo_segmenter.vxm"));
  return m;
}

ExamModels ExamModels::load_pipeline(const std::string& pipeline_file) {
  auto p = std::make_shared<PipelineFile>(load_pipeline_file(pipeline_file));  // everything checked first
  auto load = [&](const std::string& name) {
    const PipelineModel* m = p->model(name);
    LoadOptions lo;
    lo.expected_sha256 = m->sha256;
    return Model::load_file(m->path, lo);
  };
  ExamModels m;
  m.classifier = load(p->classify_model);
  if (p->denoise_model) m.denoiser = load(*p->denoise_model);
  if (p->segment) m.segmenter = load(p->segment->model);
  m.pipeline = p;
  return m;
}

std::string default_model_dir(const std::string& executable_path) {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("VOXINFER_MODELS")) candidates.push_back(env);
  std::error_code ec;
  fs::path exe = fs::canonical(executable_path, ec);
  if (!ec) candidates.push_back((exe.parent_path().parent_path() / "share" / "voxinfer" / "models").string());
  for (const auto& c : candidates)
    if (fs::exists(fs::path(c) / "demo_classifier.vxm") || !find_pipeline_file(c).empty()) return c;
  fail(Status::io_error, "the demo models (demo_classifier.vxm, ...) were not found; set VOXINFER_MODELS to their folder");
}

Exam::Exam(ExamModels models) : models_(std::move(models)) {
  require(models_.classifier != nullptr, Status::invalid_argument, "the exam pipeline needs a classifier model");
  if (models_.classifier->graph->inputs.size() != 2)
    fail(Status::invalid_argument, "the classifier must take two sequences, it takes " +
                                       std::to_string(models_.classifier->graph->inputs.size()) + " inputs");
  if (const PipelineFile* p = models_.pipeline.get()) {
    if (p->inputs.size() != 2)
      fail(Status::invalid_argument, "pipeline '" + p->path + "': the examination takes two inputs, it declares " +
                                         std::to_string(p->inputs.size()));
    if (p->classify_inputs != std::vector<std::string>{p->inputs[0].sequence, p->inputs[1].sequence})
      fail(Status::invalid_argument, "pipeline '" + p->path + "': the classify stage must take the inputs in their declared order");
  }
  const auto& k = kern::default_kernels();
  auto executor = [&k](const Model& m) { return std::make_unique<Executor>(m.graph, k, metadata_layer_tensors(m), m.packs); };
  classifier_ = executor(*models_.classifier);
  if (models_.denoiser) denoiser_ = executor(*models_.denoiser);
  if (models_.segmenter) segmenter_ = executor(*models_.segmenter);
}

std::vector<InputRule> Exam::input_rules() const {
  if (!models_.pipeline) return pipeline::input_rules(*models_.classifier);
  std::vector<InputRule> rules;
  for (const auto& in : models_.pipeline->inputs) {
    rules.push_back(InputRule::parse(in.sequence, in.match));
    if (!in.match.is_null()) rules.back().origin = "pipeline file " + models_.pipeline->path;
  }
  return rules;
}

nlohmann::json Exam::run(const std::vector<std::string>& inputs, const std::string& out_dir, const ExamOptions& opt) {
  const Model& cls = *models_.classifier;
  if (inputs.size() != 2)
    fail(Status::invalid_argument, "an examination needs exactly two sequences (--input twice), got " + std::to_string(inputs.size()));
  const auto t_all = Clock::now();
  nlohmann::json report, timings;
  auto stage = [&](const std::string& name, int64_t done, int64_t total) {
    if (opt.progress && opt.progress(name, done, total)) fail(Status::cancelled, "cancelled during " + name);
  };
  auto exec_progress = [&](const std::string& name) {
    ExecOptions eo;
    eo.progress = [&, name](int64_t d, int64_t t) { return opt.progress && opt.progress(name, d, t); };
    return eo;
  };

  // Sequence names from the pipeline, else the classifier's metadata ("T1", "STIR"), else the graph input names.
  const PipelineFile* pipe = models_.pipeline.get();
  auto declares = [&](const char* output) {
    return !pipe || std::find(pipe->outputs.begin(), pipe->outputs.end(), output) != pipe->outputs.end();
  };
  const std::vector<std::string> seq = pipe ? std::vector<std::string>{pipe->inputs[0].sequence, pipe->inputs[1].sequence}
                                            : std::vector<std::string>{sequence_name(cls, 0), sequence_name(cls, 1)};

  // 1. Read; the second sequence is brought into the first one's voxel grid.
  auto t0 = Clock::now();
  std::vector<DicomSource> sources;  // with dicom_out: what the DICOM outputs refer to
  if (opt.dicom_out) {
    for (int i = 0; i < 2; ++i)
      if (!is_dicom_input(inputs[i]))
        fail(Status::invalid_argument, "DICOM outputs need DICOM inputs: the " + seq[i] + " input '" + inputs[i] +
                                           "' is NIfTI (give its DICOM series, or leave out the DICOM outputs)");
    for (int i = 0; i < 2; ++i) sources.push_back(read_dicom_source(inputs[i]));
  }
  stage("read", 0, 2);
  std::vector<Volume> original;
  for (int i = 0; i < 2; ++i) {
    original.push_back(read_volume(inputs[i], opt.read));
    stage("read", i + 1, 2);
  }
  std::vector<Volume> aligned{original[0], resample_to_reference(original[1], original[0], Interp::linear)};
  timings["read"] = seconds_since(t0);

  // 2. The pipeline's declared plan per input, else a resize to the networks' grid (trilinear,
  // align_corners as the published recipe).
  t0 = Clock::now();
  const auto g = model_grid(cls);  // D, H, W
  const std::array<int64_t, 3> size_ijk{g[2], g[1], g[0]};
  std::vector<Volume> net;
  nlohmann::json pipeline_report = pipe ? pipe->report() : nlohmann::json(nullptr);
  for (int i = 0; i < 2; ++i) {
    if (!pipe || !pipe->inputs[i].plan) {
      net.push_back(resize(aligned[i], size_ijk, Interp::linear, true));
      continue;
    }
    preprocess::PlanResult pr = preprocess::run_plan(*pipe->inputs[i].plan, aligned[i]);
    if (pr.volume.size_ijk() != size_ijk)
      fail(Status::shape_mismatch, "pipeline '" + pipe->path + "': the " + seq[i] + " preprocessing ends on a " +
                                       std::to_string(pr.volume.size_ijk()[0]) + "x" + std::to_string(pr.volume.size_ijk()[1]) +
                                       "x" + std::to_string(pr.volume.size_ijk()[2]) + " grid, the classifier takes " +
                                       std::to_string(g[2]) + "x" + std::to_string(g[1]) + "x" + std::to_string(g[0]) + " (i x j x k)");
    for (const auto& t : pr.timings) pipeline_report["inputs"][i]["step_ms"].push_back({{"op", t.op}, {"ms", t.ms}});
    net.push_back(std::move(pr.volume));
  }
  timings["preprocess"] = seconds_since(t0);
  stage("preprocess", 1, 1);

  // 3. Denoise each sequence, normalised as the denoiser declares, back in the scan's units.
  std::vector<Tensor> denoised{net[0].data, net[1].data};
  if (models_.denoiser && opt.denoise) {
    t0 = Clock::now();
    if (model_grid(*models_.denoiser) != g) fail(Status::shape_mismatch, "the denoiser's grid differs from the classifier's");
    for (int i = 0; i < 2; ++i) {
      Tensor x = net[i].data.clone();
      const Normalisation norm = normalise_input(*models_.denoiser, 0, x);
      Tensor y = denoiser_->run({batch_of_one(x)}, exec_progress("denoise " + seq[i]))[0];
      denoised[i] = norm.undo(y.reshape({g[0], g[1], g[2]}));
    }
    timings["denoise"] = seconds_since(t0);
  }

  // 4. Classify both sequences, each scaled to [0, 1] by its maximum.
  t0 = Clock::now();
  std::vector<Tensor> cls_in;
  for (int i = 0; i < 2; ++i) {
    const bool use_denoised = pipe ? pipe->classify_denoised : opt.classify_denoised;
    Tensor x = (use_denoised ? denoised[i] : net[i].data).clone();
    normalise_input(cls, i, x);
    cls_in.push_back(batch_of_one(x));
  }
  Tensor logits_t = classifier_->run(cls_in, exec_progress("classify"))[0];
  std::vector<float> logits(logits_t.f32(), logits_t.f32() + logits_t.numel());
  std::vector<float> probs = probabilities(cls, logits);
  const int predicted = static_cast<int>(std::max_element(probs.begin(), probs.end()) - probs.begin());
  std::vector<std::string> classes = class_names(cls);
  report["classification"] = {{"classes", classes}, {"logits", logits}, {"probabilities", probs},
                              {"predicted_class", predicted},
                              {"predicted_label", predicted < (int)classes.size() ? classes[predicted] : std::to_string(predicted)}};
  timings["classify"] = seconds_since(t0);

  Staging out(out_dir);

  // 5. Grad-CAM: one map per sequence on the network grid, written on each scan's own grid.
  const bool png = opt.png && declares("png");
  if (opt.gradcam && declares("gradcam")) {
    t0 = Clock::now();
    stage("gradcam", 0, 1);
    explain::CamOptions co;
    const auto& md = cls.metadata;
    if (pipe && !pipe->gradcam_layers.empty()) {
      for (int i = 0; i < 2; ++i)
        if (pipe->gradcam_layers.count(seq[i])) co.layers.push_back(pipe->gradcam_layers.at(seq[i]));
      co.all_applications = co.layers.size() != 2;
    } else if (md.contains("gradcam_layers_per_sequence") && md["gradcam_layers_per_sequence"].is_object()) {
      for (int i = 0; i < 2; ++i)
        if (md["gradcam_layers_per_sequence"].contains(seq[i])) co.layers.push_back(md["gradcam_layers_per_sequence"][seq[i]]);
      co.all_applications = co.layers.size() != 2;
    }
    explain::CamResult cam = explain::grad_cam(cls, cls_in, co);
    for (const auto& map : cam.maps) {
      int i = 0;
      while (i < 2 && cls.graph->inputs[i].name != map.input) ++i;
      if (i == 2) continue;
      const std::string base = lower(seq[i]) + "_gradcam";
      Volume on_net = volume_like(net[i], map.map);
      Volume back = resample_to_reference(resample_to_reference(on_net, aligned[i], Interp::linear), original[i], Interp::linear);
      write_nifti(out.path(base + ".nii.gz"), back);
      nlohmann::json entry = {{"sequence", seq[i]}, {"layer", map.layer}, {"raw_max", map.raw_max.at(0)},
                              {"nifti", base + ".nii.gz"}, {"target_class", cam.target_class.at(0)}};
      if (png) {
        explain::ScanMontageOptions mo;
        const int target = cam.target_class.at(0);
        mo.title = seq[i] + "  Grad-CAM for '" + label_of(classes, target) + "'   predicted '" + label_of(classes, predicted) +
                   "' p = " + fixed3(probs[predicted]);
        mo.bar_label = "Grad-CAM (relative to its maximum)";
        entry["png_slices"] = explain::write_scan_montage_png(out.path(base + ".png"), original[i], back, mo);
        entry["png"] = base + ".png";
      }
      if (opt.dicom_out) {
        DicomScOptions so;
        so.series_description = "voxinfer Grad-CAM " + seq[i];
        so.derivation_description = "Grad-CAM map (" + map.layer + ") blended on the scan (alpha 0.5, inferno)";
        so.software_version = vx_version();
        write_dicom_sc_series(out.path(base + "_sc"), explain::overlay_rgb_slices(original[i].data, back.data), original[i],
                              sources[i], so);
        entry["dicom_sc"] = base + "_sc";
      }
      report["gradcam"].push_back(entry);
    }
    timings["gradcam"] = seconds_since(t0);
  }

  // 6. Denoised volumes, back on each scan's grid.
  if (models_.denoiser && opt.denoise && declares("denoised")) {
    t0 = Clock::now();
    for (int i = 0; i < 2; ++i) {
      Volume back = resample_to_reference(resample_to_reference(volume_like(net[i], denoised[i]), aligned[i], Interp::linear),
                                          original[i], Interp::linear);
      write_nifti(out.path(lower(seq[i]) + "_denoised.nii.gz"), back);
    }
    timings["write_denoised"] = seconds_since(t0);
  }

  // 7. Lesion segmentation on the STIR-like (second) sequence, or the pipeline's segment input:
  // slice by slice along D (2-D network), or by sliding window (3-D network).
  if (models_.segmenter) {
    t0 = Clock::now();
    const Model& seg = *models_.segmenter;
    const int si = pipe ? pipe->input_index(pipe->segment->input) : 1;
    const bool windows = pipe && pipe->segment->mode == "sliding_window";
    const PostprocessStage post = pipe ? pipe->postprocess : PostprocessStage{};
    const auto sg = model_grid(seg);
    if (!windows && (sg[1] != g[1] || sg[2] != g[2])) fail(Status::shape_mismatch, "the segmenter's slice size differs from the classifier's grid");
    Tensor x = net[si].data.clone();
    normalise_input(seg, 0, x);
    x = x.reshape({1, g[0], g[1], g[2]});
    auto seg_progress = [&](int64_t d, int64_t t) { return opt.progress && opt.progress("segment", d, t); };
    auto seg_net = [&](const Tensor& b) { return segmenter_->run({b})[0]; };
    Tensor logits_seg;
    if (windows) {
      SlidingWindowOptions wo;
      wo.window = sg;
      wo.overlap = pipe->segment->overlap;
      wo.gaussian = pipe->segment->gaussian;
      wo.mirror = pipe->segment->mirror;
      wo.batch_size = seg.graph->inputs[0].shape[0] == -1 ? pipe->segment->batch_size : 1;
      wo.progress = seg_progress;
      logits_seg = sliding_window_inference(x, seg_net, wo);
    } else {
      SliceOptions so;
      so.batch_size = seg.graph->inputs[0].shape[0] == -1 ? (pipe ? pipe->segment->batch_size : 8) : 1;
      so.mirror = pipe && pipe->segment->mirror;
      so.progress = seg_progress;
      logits_seg = slice_inference_2d(x, seg_net, so);
    }
    Tensor labels = argmax(logits_seg);  // [K, D, H, W] -> [D, H, W]
    std::vector<std::string> seg_classes = class_names(seg);
    const int lesion = index_of(seg_classes, lower(post.lesion_class), static_cast<int>(logits_seg.dim(0)) - 1);
    const int body = index_of(seg_classes, "body", 1);
    Tensor mask = Tensor::zeros(labels.shape());
    if (post.labels == "threshold") {  // the lesion class's softmax probability above the threshold
      Tensor prob = softmax(logits_seg);
      const float* pl = prob.f32() + lesion * labels.numel();
      for (int64_t v = 0; v < labels.numel(); ++v) mask.f32()[v] = pl[v] > post.threshold ? 1.f : 0.f;
    } else {
      for (int64_t v = 0; v < labels.numel(); ++v) mask.f32()[v] = labels.f32()[v] == lesion ? 1.f : 0.f;
    }
    Volume mask_back = resample_to_reference(resample_to_reference(volume_like(net[si], mask), aligned[si], Interp::nearest),
                                             original[si], Interp::nearest);
    if (declares("lesion_mask")) write_nifti(out.path("lesion_mask.nii.gz"), mask_back);
    Components comps = connected_components(mask_back.data, post.connectivity);
    const double lesion_ml = lesion_volume_ml(mask_back.data, spacing(mask_back));
    HipScoreOptions ho;
    ho.head_label = static_cast<float>(body);
    ho.lesion_label = static_cast<float>(lesion);
    std::vector<int64_t> slices;
    if (g[0] >= 15) slices = hip_scoring_slices(g[0], g[0] / 2);
    else for (int64_t s = 0; s < g[0]; ++s) slices.push_back(s);
    HipScore score = post.lesion_score ? hip_unet_score(labels, slices, &net[si].data, ho) : HipScore{};
    report["segmentation"] = {{"sequence", seq[si]}, {"classes", seg_classes},
                              {"mask", declares("lesion_mask") ? nlohmann::json("lesion_mask.nii.gz") : nlohmann::json(nullptr)},
                              {"lesion_volume_ml", lesion_ml},
                              {"lesion_components", comps.count},
                              {"lesion_score", score.score}, {"lesion_score_weighted", score.weighted_score},
                              {"score_slices", slices}};
    if (png && declares("lesion_mask")) {
      explain::ScanMontageOptions mo;
      mo.kind = explain::ScanMontageOptions::Kind::mask;
      char line[160];
      std::snprintf(line, sizeof line, "%s  lesions (red): %lld component(s), %.2f mL, score %.3f", seq[si].c_str(),
                    static_cast<long long>(comps.count), lesion_ml, score.score);
      mo.title = line;
      report["segmentation"]["png_slices"] = explain::write_scan_montage_png(out.path("lesion_mask.png"), original[si], mask_back, mo);
      report["segmentation"]["png"] = "lesion_mask.png";
    }
    if (opt.dicom_out) {
      DicomSegOptions so;
      so.label_names = {"lesion"};
      so.series_description = "voxinfer lesion segmentation";
      so.software_version = vx_version();
      write_dicom_seg(out.path("lesion_seg.dcm"), mask_back, original[si], sources[si], so);
      report["segmentation"]["dicom_seg"] = "lesion_seg.dcm";
    }
    timings["segment"] = seconds_since(t0);
  }

  // 8. The report, then everything moves into out_dir at once.
  for (int i = 0; i < 2; ++i) {
    const auto sp = spacing(original[i]);
    report["inputs"].push_back({{"path", inputs[i]}, {"sequence", seq[i]},
                                {"size_ijk", original[i].size_ijk()}, {"spacing_mm", sp},
                                {"orientation", axcodes(original[i].affine)},
                                {"warnings", original[i].header.warnings}});
  }
  auto model_entry = [](const std::shared_ptr<const Model>& m) {
    return m ? nlohmann::json{{"name", model_name(*m)}, {"sha256", m->sha256}} : nlohmann::json(nullptr);
  };
  report["models"] = {{"denoiser", model_entry(models_.denoiser)}, {"classifier", model_entry(models_.classifier)},
                      {"segmenter", model_entry(models_.segmenter)}};
  report["network_grid_dhw"] = g;
  if (!opt.input_match.is_null()) report["input_match"] = opt.input_match;
  if (pipe) report["pipeline"] = pipeline_report;
  timings["total"] = seconds_since(t_all);
  report["timings_s"] = timings;
  std::vector<std::string> files = out.names();
  files.push_back("report.json");
  report["outputs"] = files;
  out.write_text("report.json", report.dump(2) + "\n");
  stage("write", 1, 1);
  out.commit();
  return report;
}

}  // namespace vx::pipeline
