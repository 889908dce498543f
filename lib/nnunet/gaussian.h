// nnU-Net's Gaussian importance map (sliding_window_prediction.py compute_gaussian): a unit
// impulse at patch // 2 filtered with sigma = patch * sigma_scale (scipy gaussian_filter, truncate
// 4, constant 0), scaled to a peak of value_scaling_factor, cast to float16 (torch: double ->
// float -> half), zeros replaced by the smallest non-zero value.
#pragma once
#include <cstdint>
#include <vector>

namespace vx::nnunet {

// The map over the patch (row-major, last axis fastest), float16 values held as floats.
std::vector<float> compute_gaussian(const std::vector<int64_t>& patch, double sigma_scale = 1.0 / 8,
                                    double value_scaling_factor = 10);

// scipy.ndimage._filters._gaussian_kernel1d (order 0): radius int(4 * sigma + 0.5), sum 1.
std::vector<double> gaussian_kernel1d(double sigma, int64_t radius);

}  // namespace vx::nnunet
