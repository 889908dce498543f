// nnU-Net's default resampling (preprocessing/resampling/default_resampling.py): skimage's
// resize(order, mode='edge', anti_aliasing=False), which is scipy.ndimage.zoom(grid_mode=True,
// mode='nearest') clipped to the input's range; the separate-z rule (2-D resize per slice, then
// order_z along the anisotropic axis); compute_new_shape. Arithmetic in float64 as SciPy's.
// Spline prefilter as SciPy does it for mode 'nearest': edge-pad by 12, then the B-spline
// recursive filter with mirror boundaries along each axis in turn.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace vx::nnunet {

// round(old_spacing / new_spacing * old_shape) per axis (Python's round: ties to even).
std::vector<int64_t> compute_new_shape(const std::vector<int64_t>& old_shape, const std::vector<double>& old_spacing,
                                       const std::vector<double>& new_spacing);

// skimage-style resize of a rank-1..3 float64 array (row-major), spline order 0..3, clipped to the
// input's [min, max].
std::vector<double> resize_like_skimage(const std::vector<double>& in, const std::vector<int64_t>& shape,
                                        const std::vector<int64_t>& new_shape, int order);

// determine_do_sep_z_and_axis: the anisotropic axis, or nullopt (no separate z).
std::optional<int> separate_z_axis(std::optional<bool> force_separate_z, const std::vector<double>& current_spacing,
                                   const std::vector<double>& new_spacing);

// One channel [D, H, W] -> new_shape, as resample_data_or_seg's image branch (float64 inside).
std::vector<double> resample_channel(const std::vector<double>& in, const std::vector<int64_t>& shape,
                                     const std::vector<int64_t>& new_shape, std::optional<int> z_axis, int order,
                                     int order_z);

}  // namespace vx::nnunet
