// DefaultPreprocessor.run_case_npy for inference: transpose_forward, crop to non-zero, normalise
// each channel, resample to the target spacing (lib/nnunet's single steps in nnU-Net's order).
#pragma once
#include <vector>

#include "nnunet/crop.h"
#include "nnunet/plan.h"

namespace vx::nnunet {

struct Preprocessed {
  std::vector<float> data;    // [C, *shape]
  Dims shape{};               // network resolution, transposed axes
  Dims shape_before_crop{};   // transposed axes
  Box box{};                  // crop box in the transposed volume
  std::vector<double> spacing_t;  // input spacing, transposed
};

// channels: C volumes [dims] in the reader's axis order (NibabelIO: zooms reversed); spacing likewise.
Preprocessed preprocess_case(const std::vector<std::vector<float>>& channels, const Dims& dims,
                             const std::vector<double>& spacing, const Plan& plan);

// The target spacing for a case (2d configurations keep the first axis' own spacing).
std::vector<double> target_spacing(const Plan& plan, const std::vector<double>& spacing_t);

}  // namespace vx::nnunet
