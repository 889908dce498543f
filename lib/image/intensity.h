// Intensity normalisation on float32 tensors (any shape, contiguous). Functions that
// change values work in place on `t` and validate everything before writing, so a
// failure leaves `t` untouched.
#pragma once
#include "core/tensor.h"

namespace vx {

// numpy.percentile(x, p) with the default 'linear' method: sort, rank = p/100 * (n - 1),
// interpolate between the two neighbouring order statistics. p in [0, 100].
// Throws Error(invalid_argument) for an empty tensor, NaN values or p out of range.
double percentile(const Tensor& t, double p);

// Clamps to [lo, hi].
void clip(Tensor& t, float lo, float hi);
// Clamps to [percentile(lower_p), percentile(upper_p)]; lower_p = 0 is the minimum, so the
// published recipe is clip_percentile(t, 0, 99).
void clip_percentile(Tensor& t, double lower_p, double upper_p);

// (x - mean) / std over the whole tensor, or over the voxels where mask > 0.5 (the mean and
// std come from the mask, every voxel is normalised). std with `ddof` (0 = numpy default,
// 1 = torch.std default). A std below eps leaves only the mean subtracted.
void zscore(Tensor& t, int ddof = 0, const Tensor* mask = nullptr, double eps = 1e-8);

// x / max(x), so a non-negative image lands in [0, 1]. If the max is not positive the
// tensor is left unchanged (an all-zero image stays zero).
void max_scale(Tensor& t);

}  // namespace vx
