// N4 bias-field correction (Tustison et al., IEEE TMI 2010), following ITK 5.2's
// N4BiasFieldCorrectionImageFilter step for step: log domain; per iteration the log image's
// histogram (linear binning) is sharpened by Wiener deconvolution of a Gaussian (FFT), the
// residual log image - sharpened is fitted by a one-level cubic B-spline scattered-data
// approximation, the fit is added to the control-point lattice, and the iterations of a level
// stop when the coefficient of variation of exp(field change) drops below the threshold.
// Between levels the lattice is refined (n -> 2n - 3 control points per axis).
//
// Rules where ITK is silent or ill-defined (ITK requires positive input):
//  - Voxels with intensity <= 0 are excluded from the fit (as if outside the mask) and are
//    returned unchanged; every positive voxel, inside the mask or not, is divided by the field.
//    (ITK keeps such voxels inside the fit with their raw value as "log"; pass a mask of
//    voxels > 0 to ITK to get the same problem.)
//  - Non-finite input -> Error(invalid_argument). Mask selecting no positive voxel ->
//    Error(invalid_argument).
//  - Included voxels all of one value (e.g. a constant volume): a documented no-op, the field is
//    1 everywhere and the output a copy of the input (N4Result::degenerate = true).
//  - The histogram minimum and maximum are the true ones (ITK 5.2's loop can miss the minimum
//    when the first voxel is it: an `else if`).
// The spacing does not change the result (ITK's parametric mapping cancels it); it is checked
// and kept for the caller's bookkeeping only.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace vx::preprocess {

struct N4Options {
  int histogram_bins = 200;               // ITK NumberOfHistogramBins
  double bias_field_fwhm = 0.15;          // ITK BiasFieldFullWidthAtHalfMaximum
  double wiener_filter_noise = 0.01;      // ITK WienerFilterNoise
  double convergence_threshold = 0.001;   // ITK ConvergenceThreshold
  std::vector<int> iterations{50, 50, 50, 50};  // per fitting level (levels = its size)
  int spline_order = 3;                   // only 3 (cubic) is implemented
  std::array<int, 3> control_points{4, 4, 4};  // first level, order z, y, x
  int shrink_factor = 1;                  // field fitted on the volume shrunk by this (block mean)
  int threads = 0;                        // OpenMP threads for this call; 0 = OpenMP's default
};

struct N4Result {
  std::vector<float> corrected;   // [nz, ny, nx], input / bias_field (input where input <= 0)
  std::vector<float> bias_field;  // [nz, ny, nx], multiplicative field (> 0)
  std::vector<int> iterations;    // iterations run per level
  std::vector<double> convergence;  // last convergence measure per level
  bool degenerate = false;        // constant included voxels: no-op (see above)
};

// Runs N4 on src ([nz, ny, nx] float32, x fastest). mask: nullptr or nz*ny*nx bytes, nonzero =
// inside. spacing (z, y, x) in mm, each > 0. Throws vx::Error on bad arguments. Does not keep
// any pointer after it returns. Thread-safe for distinct outputs; uses OpenMP threads inside.
N4Result n4_bias_correct(const float* src, const std::array<int64_t, 3>& dims, const std::array<double, 3>& spacing,
                         const uint8_t* mask, const N4Options& options = {});

// The same on tensors: src f32 [nz, ny, nx] or [1, 1, nz, ny, nx] (any strides); mask (optional,
// undefined Tensor for none) u8 or f32 of the same element count, nonzero = inside. Returns
// contiguous tensors shaped like src: {corrected, bias_field}.
std::array<Tensor, 2> n4_bias_correct(const Tensor& src, const std::array<double, 3>& spacing, const Tensor& mask,
                                      const N4Options& options = {});

// Otsu threshold mask (voxels > threshold are 1), threshold from a `bins`-bin histogram of the
// finite values (ITK's OtsuThresholdImageFilter uses 128 bins). Constant input -> all zeros.
std::vector<uint8_t> otsu_mask(const float* src, int64_t count, int bins = 128);

}  // namespace vx::preprocess
