// Geometry of volumes: reorientation, resampling, resizing and centre crop/pad. Every
// operation returns a new volume (the input is never modified) whose affine, qform and
// sform are updated by the exact voxel-index transform applied, so world coordinates of
// surviving voxels are unchanged.
// Axis-indexed arguments are in voxel-axis order (i, j, k) = (x, y, z) = (W, H, D).
#pragma once
#include <array>
#include <string>

#include "image/volume.h"

namespace vx {

// Permutes/flips voxel axes so that axcodes(result.affine) == code, e.g. "RAS", "LPS".
// Going back is reorient(result, axcodes(original.affine)). Voxel values are moved, not
// interpolated. Throws Error(invalid_argument) for a malformed code.
Volume reorient(const Volume& v, const std::string& code);

enum class Interp { linear, nearest };

struct ResampleOptions {
  std::array<double, 3> spacing{0, 0, 0};  // target mm; 0 = keep the input's
  std::array<int64_t, 3> size{0, 0, 0};    // target voxels; 0 = round(n * old / new spacing)
  Interp interp = Interp::linear;          // nearest for label maps
  float fill = 0.f;                        // value outside the input
};

// Physical resampling with the output grid centred on the input's centre and the voxel
// axes kept (the published SimpleITK recipe): output voxel o samples input index
// x = (n_in - 1)/2 + (o - (n_out - 1)/2) * new_spacing / old_spacing on each axis.
// Linear: trilinear inside [0, n_in - 1] (1e-6 voxel slack), `fill` outside.
// Nearest: the input voxel round(x) when -0.5 <= x < n_in - 0.5, else `fill`.
Volume resample(const Volume& v, const ResampleOptions& opts);

// Index-space resize to `size` as torch.nn.functional.interpolate on [1, 1, D, H, W]:
// linear = 'trilinear' with align_corners as given; nearest = 'nearest' (floor(o * in/out)).
Volume resize(const Volume& v, const std::array<int64_t, 3>& size, Interp interp, bool align_corners);
// The same on a bare float32 tensor [D, H, W] (size still in (W, H, D) = (i, j, k) order).
Tensor resize(const Tensor& src, const std::array<int64_t, 3>& size, Interp interp, bool align_corners);

// Centre crop and/or pad to `size`: output voxel o takes input o + floor((n_in - n_out) / 2)
// (so 20 -> 16 drops 2 at each end); voxels outside the input get `fill`.
Volume crop_or_pad(const Volume& v, const std::array<int64_t, 3>& size, float fill = 0.f);

}  // namespace vx

namespace vx {

// World-space resampling onto another volume's grid: output voxel o of `reference` samples
// `moving` at inverse(moving.affine) * reference.affine * o (trilinear or nearest, `fill`
// outside). The result has the reference's geometry and header. Used to bring a second
// sequence of an examination into the first one's voxel grid, and maps back onto a scan.
Volume resample_to_reference(const Volume& moving, const Volume& reference, Interp interp, float fill = 0.f);

}  // namespace vx
