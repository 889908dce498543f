// The published sacroiliac-joint preprocessing chain (reference/published-systems.md A1) as a
// declared plan: a list of steps with parameters that is plain data, so a .vxm can carry it in
// its metadata ("preprocessing": {"plan": [...]}) and the engine runs exactly what was declared.
// Every step is the existing, separately tested function; the plan only orders and parameterises
// them.
//
// A step is a JSON object {"op": NAME, ...parameters}; axis-indexed arrays are in voxel-axis
// order (i, j, k) = (W, H, D) like the rest of lib/image:
//   "resample"        spacing [3] mm, size [3] voxels (0 = derived), interp "linear"|"nearest",
//                     fill (default 0)                      -> image/geometry.h resample
//   "clip_percentile" lower, upper (percent, default 0, 99) -> image/intensity.h clip_percentile
//   "n4"              shrink_factor (1), iterations ([50,50,50,50]), histogram_bins (200),
//                     convergence_threshold (0.001), otsu (false), threads (0)
//                                                           -> preprocess/n4_volume.h
//   "resize"          size [3], interp ("linear"), align_corners (true) -> image/geometry.h resize
//   "crop_or_pad"     size [3], fill (0)                    -> image/geometry.h crop_or_pad
//   "zscore"          ddof (0)                              -> image/intensity.h zscore
//   "max_scale"       (no parameters)                       -> image/intensity.h max_scale
// Parsing is strict: an unknown op, an unknown parameter (a typo would otherwise silently change
// the preprocessing a model was trained with) or a malformed value gives Error(invalid_argument)
// naming the step. Unlike the rest of the metadata, unknown keys are not ignored here.
//
// Degenerate inputs never produce NaN: N4 on a volume with no positive voxel is
// Error(invalid_argument) (n4.h); N4 on constant positive voxels is a no-op; zscore of a constant
// volume gives zeros (std below eps: only the mean is subtracted); max_scale with a maximum <= 0
// leaves the volume unchanged (a constant volume z-scores to finite values, not exactly 0: zscore's
// eps is absolute and resize rounding survives it). Non-finite input is Error(invalid_argument) (percentile).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "image/geometry.h"
#include "image/volume.h"
#include "preprocess/n4.h"

namespace vx::preprocess {

struct PlanStep {
  std::string op;                          // one of the names above
  std::array<double, 3> spacing{0, 0, 0};  // resample
  std::array<int64_t, 3> size{0, 0, 0};    // resample, resize, crop_or_pad
  Interp interp = Interp::linear;          // resample, resize
  float fill = 0.f;                        // resample, crop_or_pad
  bool align_corners = true;               // resize
  double lower = 0, upper = 99;            // clip_percentile
  int ddof = 0;                            // zscore
  N4Options n4;                            // n4
  bool otsu = false;                       // n4: fit inside an Otsu mask
};

struct Plan {
  std::vector<PlanStep> steps;
};

// The published recipe for target "denoiser" or "classifier" (else Error(invalid_argument)).
// run_n4 = false leaves the N4 step out; n4 gives its options (default: the published 4 x 50
// iterations, no shrinking).
Plan sij_plan(const std::string& target, bool run_n4 = true, const N4Options& n4 = {});

// The plan as a JSON array of step objects, and back (strict, see above). from_json(to_json(p))
// reproduces p.
nlohmann::json plan_to_json(const Plan& plan);
Plan plan_from_json(const nlohmann::json& steps);
// The plan a model's metadata declares at "preprocessing"."plan", or nullopt when absent.
std::optional<Plan> plan_from_metadata(const nlohmann::json& metadata);

struct StepTiming {
  std::string op;
  double ms = 0;
};

struct PlanResult {
  Volume volume;                   // geometry updated by each step
  std::vector<StepTiming> timings; // one per step, in order
};

// Runs the plan on src (not modified). Throws vx::Error from the failing step, prefixed with its
// index and op. Thread-safe for distinct inputs; N4 uses OpenMP threads inside.
PlanResult run_plan(const Plan& plan, const Volume& src);

}  // namespace vx::preprocess
