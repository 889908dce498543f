// The published two-sequence examination pipeline (sacroiliac-joint system, reference A),
// on whichever models are given: read both sequences, bring the second into the first's
// voxel grid, resize to the networks' grid, denoise each sequence, classify with the
// dual-encoder network, explain with one Grad-CAM map per sequence, segment lesions
// slice-wise, and write results that line up voxel for voxel with the scans passed in.
// With a pipeline file (pipeline_file.h) the sequences, each one's preprocessing plan (e.g. the
// published clip at p99 + N4), the Grad-CAM layers, the segmentation mode and post-processing
// and the outputs are the file's; report.json then records the file, its hash and the chain run.
//
// Outputs in `out_dir` (each written atomically; on any error or cancellation nothing new
// is left there): <seq>_denoised.nii.gz, <seq>_gradcam.nii.gz and <seq>_gradcam.png per
// sequence (seq = the classifier's sequence names, lower case), lesion_mask.nii.gz and
// lesion_mask.png, and report.json (probabilities, class, lesion volume and score, per-stage
// timings, model hashes). The PNGs are montages of the scan as read (pipeline/scan_montage.h).
// With dicom_out (DICOM inputs only), for PACS, referencing the series each was computed on:
// lesion_seg.dcm (the lesion mask as a DICOM Segmentation, io/dicom_seg_write.h, on the second
// sequence's series) and <seq>_gradcam_sc/IM_0001.dcm ... (the Grad-CAM overlay on each scan's
// own grid, every slice rendered as the PNG montage renders one, as RGB secondary captures,
// io/dicom_sc_write.h).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "exec/executor.h"
#include "io/volume_io.h"
#include "model/model.h"
#include "pipeline/input_match.h"
#include "pipeline/pipeline_file.h"

namespace vx::pipeline {

struct ExamModels {
  std::shared_ptr<const Model> denoiser;    // image -> image, [1,1,D,H,W]; optional
  std::shared_ptr<const Model> classifier;  // two inputs [1,1,D,H,W] -> class logits; required
  std::shared_ptr<const Model> segmenter;   // 2-D [1,1,H,W] -> class logits per pixel; optional

  // With one, the pipeline file these models come from (pipeline_file.h): its inputs, their
  // preprocessing plans, its stages and outputs replace the built-in chain.
  std::shared_ptr<const PipelineFile> pipeline;

  // The single *.pipeline.json in `dir` when there is one (load_pipeline), else
  // demo_denoiser.vxm, demo_classifier.vxm and demo_segmenter.vxm from `dir`.
  static ExamModels load_dir(const std::string& dir);
  // Validates the whole pipeline file (models, hashes, steps, inputs), then loads its models.
  static ExamModels load_pipeline(const std::string& pipeline_file);
};

// Where the shipped demo models are: $VOXINFER_MODELS, else <dir of the executable>/../share/
// voxinfer/models (an install prefix, or the build tree, which CMake lays out the same way).
// Throws io_error if neither has them.
std::string default_model_dir(const std::string& executable_path);

// Stage name, done, total; returning true cancels (Error(cancelled)).
using StageProgress = std::function<bool(const std::string& stage, int64_t done, int64_t total)>;

struct ExamOptions {
  VolumeReadOptions read;         // how the inputs are read (uneven DICOM slices, NaN voxels)
  bool gradcam = true;
  bool png = true;
  bool denoise = true;            // run the denoiser when one is given
  bool classify_denoised = true;  // the published chain feeds the denoised images to the classifier
  nlohmann::json input_match;     // how the inputs were chosen from a study (match_study), for the report
  bool dicom_out = false;         // also DICOM-SEG and secondary captures (inputs must be DICOM)
  StageProgress progress;
};

class Exam {
 public:
  explicit Exam(ExamModels models);
  // inputs: NIfTI files or DICOM folders/files, in the classifier's sequence order.
  nlohmann::json run(const std::vector<std::string>& inputs, const std::string& out_dir, const ExamOptions& options);
  const Model& classifier() const { return *models_.classifier; }
  const PipelineFile* pipeline() const { return models_.pipeline.get(); }
  // How --study chooses each input's series: the pipeline's declared rules, else the classifier's.
  std::vector<InputRule> input_rules() const;

 private:
  ExamModels models_;
  std::unique_ptr<Executor> denoiser_, classifier_, segmenter_;  // one per model, reused across runs
};

}  // namespace vx::pipeline
