// Post-processing of network outputs: activations, label maps, connected components,
// measurements (lesion volume, Dice, IoU) and the hip UNet-score (reference:
// shared/reference/published-systems.md, section B). Label maps are float32 tensors holding
// integer values. Inputs are never modified; every function returns a new tensor or value.
#pragma once
#include <array>
#include <vector>

#include "core/tensor.h"

namespace vx {

// Over axis 0 of [K, ...] (numerically stable: the maximum is subtracted first).
Tensor softmax(const Tensor& logits);
Tensor sigmoid(const Tensor& x);
// Index of the largest value over axis 0 of [K, ...] -> [...] (first index on ties).
Tensor argmax(const Tensor& scores);
// 1 where x > t, else 0.
Tensor threshold(const Tensor& x, float t);

struct Components {
  Tensor labels;               // [D, H, W], 0 = background, 1..count by first voxel in file order
  int64_t count = 0;
  std::vector<int64_t> sizes;  // voxels per component, sizes[0] is component 1
};
// Components of the foreground (value > 0.5) of a [D, H, W] mask; connectivity 6 or 26.
Components connected_components(const Tensor& mask, int connectivity = 26);
// The largest component only (ties: the first in file order), as a 0/1 mask.
Tensor keep_largest_component(const Tensor& mask, int connectivity = 26);

// Foreground voxels * voxel volume (spacing in mm, any axis order) / 1000.
double lesion_volume_ml(const Tensor& mask, const std::array<double, 3>& spacing_mm);
// Overlap of the foregrounds (> 0.5), or of one label value when label >= 0. Both empty = 1.
double dice(const Tensor& a, const Tensor& b, float label = -1.f);
double iou(const Tensor& a, const Tensor& b, float label = -1.f);

// Hip UNet-score (Zheng et al. 2023). The label map is [S, H, W] with the coronal slices on
// axis 0, ordered anterior to posterior.
struct HipScoreOptions {
  float head_label = 1.f;
  float lesion_label = 2.f;
  // The network labels a lesion voxel inside the head as lesion, so by default the femoral
  // head area is head + lesion voxels; false uses head voxels only.
  bool head_includes_lesion = true;
};
struct HipScore {
  double score = 0;           // sum over slices of lesion area / head area
  double weighted_score = 0;  // sum of lesion intensity / head intensity ("gray value proportion")
  std::vector<double> per_slice, per_slice_weighted;  // slices with no head area count 0
};
// The 15 scoring slices: 5 anterior, 5 central, 5 posterior, consecutive and centred on
// `centre` (the slice through the centre of the femoral heads). Throws when they do not fit.
std::vector<int64_t> hip_scoring_slices(int64_t n_slices, int64_t centre);
// `image` (same shape, optional) is needed for the weighted variant.
HipScore hip_unet_score(const Tensor& labels, const std::vector<int64_t>& slices, const Tensor* image = nullptr,
                        const HipScoreOptions& opts = {});

}  // namespace vx
