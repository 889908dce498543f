// One model on scans: what `voxinfer run` does. Scans are read (NIfTI or DICOM), brought into
// the first scan's voxel grid, then either put through the model's declared preprocessing plan
// (which must end on the model's grid) or resized to the model's grid when it declares one and
// normalised as its metadata says, and run (3-D models on the volume; 2-D models slice by slice along D).
// Vector outputs become class probabilities; spatial outputs become volumes on the first
// scan's grid ("image" outputs in the scan's intensity units, other kinds as argmax labels
// with per-class volumes in mL). With `gradcam`, one map per input for vector outputs.
// Writes <output>.nii.gz files, <input>_gradcam.nii.gz/.png and summary.json atomically.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model.h"
#include "pipeline/exam.h"

namespace vx::pipeline {

struct RunOptions {
  VolumeReadOptions read;         // how the inputs are read (uneven DICOM slices, NaN voxels)
  bool gradcam = false;
  bool png = true;
  // Run the preprocessing plan the model declares (metadata "preprocessing"."plan") on each
  // scan instead of the plain resize + "normalisation"; false skips it (--no-preprocessing).
  bool preprocessing = true;
  StageProgress progress;
};

nlohmann::json run_model_on_scans(const Model& model, const std::vector<std::string>& inputs, const std::string& out_dir,
                                  const RunOptions& options);

}  // namespace vx::pipeline
