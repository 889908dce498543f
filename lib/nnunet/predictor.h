// nnUNetPredictor on an imported model (.vxm with metadata.nnunet): preprocess, pad to the patch,
// the tile grid, each tile through the engine for each requested fold with mirroring over every
// combination of the allowed axes, Gaussian-weighted accumulation (float16 as nnU-Net on the CPU,
// or float32), the fold average, and the class-by-class export back to the input's grid.
// Memory: the accumulator lives at the network's resolution; the peak is estimated before
// anything runs and checked against a limit.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "image/volume.h"
#include "model/model.h"
#include "nnunet/plan.h"

namespace vx::nnunet {

struct PredictOptions {
  std::vector<std::string> folds;  // fold names as the model lists them ("0", "all"); empty = every fold
  bool mirroring = true;           // over the model's allowed_mirroring_axes
  double tile_step_size = 0;       // 0 = the model's (0.5)
  bool fp32_accumulation = false;  // default: nnU-Net's float16 sums
  bool probabilities = false;      // also return the per-class probabilities
  int64_t memory_limit_bytes = 0;  // 0 = none; otherwise Status::limit_exceeded before anything runs
  // (stage, done, total); returning true cancels (Status::cancelled), checked between tiles.
  std::function<bool(const std::string&, int64_t, int64_t)> progress;
};

struct Prediction {
  std::vector<uint16_t> labels;      // [nz, ny, nx] of the inputs (reader order)
  std::vector<float> probabilities;  // [heads, nz, ny, nx] when asked
  int64_t heads = 0;
  bool labels_fit_uint8 = true;      // export_prediction.py: uint8 below 255 foreground labels
  int64_t tiles = 0;                 // tiles per fold
  int64_t network_runs = 0;          // tiles x folds x mirror passes
  int64_t estimated_peak_bytes = 0;
  std::vector<std::string> folds;    // the folds that ran
};

// The folds a model holds (metadata.nnunet.folds as strings).
std::vector<std::string> model_folds(const Model& model);

// Upper bound of the peak bytes predict() holds for these inputs (model weights, the inputs,
// preprocessing, accumulator, tile buffers and engine arena, export), computed from shapes only.
int64_t estimate_peak_bytes(const Model& model, const std::vector<Volume>& channels, const PredictOptions& options);

// channels: one volume per model channel, same grid. Throws vx::Error.
Prediction predict(const Model& model, const std::vector<Volume>& channels, const PredictOptions& options = {});

}  // namespace vx::nnunet
