// nnU-Net's default normalisation schemes (preprocessing/normalization/
// default_normalization_schemes.py) on one float32 channel, with NumPy's float32 arithmetic:
// mean/std by pairwise float32 sums, scalars rounded to float32 as NumPy 1.x casts them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vx::nnunet {

struct IntensityProperties {
  double mean = 0, std = 1, percentile_00_5 = 0, percentile_99_5 = 0;
};

enum class Scheme { zscore, ct, rescale01, none };

// "ZScoreNormalization", "CTNormalization", "RescaleTo01Normalization", "NoNormalization";
// anything else is a vx::Error naming it.
Scheme scheme_from_name(const std::string& name);

// In place over n voxels. mask (seg >= 0 of crop_to_nonzero, 1 = inside) is used by z-score when
// use_mask is true; CT needs props.
void normalize_channel(float* image, int64_t n, Scheme scheme, bool use_mask, const uint8_t* mask,
                       const IntensityProperties& props);

}  // namespace vx::nnunet
