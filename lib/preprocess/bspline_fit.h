// Cubic B-spline scattered-data approximation on a regular 3-D grid, as ITK's
// BSplineScatteredDataPointSetToImageFilter does it for one fitting level (Lee, Wolberg and
// Shin 1997, "Scattered data interpolation with multilevel B-splines"), plus the lattice
// evaluation of BSplineControlPointImageFilter and its refinement (2n - 3 control points).
//
// The data points are the voxels of a [nz, ny, nx] grid (those flagged as included), so every
// per-point weight is a product of three per-axis weights and the fit reduces to three small
// separable contractions instead of 64 scattered updates per point. The result is the same
// phi = delta / omega lattice ITK computes (up to floating-point summation order).
//
// Parametrisation (ITK's): a lattice of n control points per axis spans n - 3 knot spans; grid
// index i of an axis of length L maps to u = (n - 3) * i / (L - 1), and u == n - 3 is pulled
// back by ITK's epsilon (1e-3 of a voxel) so the last voxel falls inside the last span. The
// spacing of the grid cancels out of this mapping, so none of these functions take it.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace vx::preprocess {

// Control-point lattice, stored [nz][ny][nx] like the images (x fastest).
struct BSplineLattice {
  std::array<int64_t, 3> n{};  // control points per axis, order z, y, x
  std::vector<double> coef;    // n[0] * n[1] * n[2] values

  static BSplineLattice zeros(const std::array<int64_t, 3>& n);
  int64_t size() const { return n[0] * n[1] * n[2]; }
};

// The cubic B-spline weights of every sample of one axis: sample i touches control points
// first[i] .. first[i] + 3 with weights w[4 * i + 0..3].
struct AxisBasis {
  int64_t control_points = 0;
  std::vector<int64_t> first;
  std::vector<double> w;
};

// Basis for an axis of `length` samples mapped onto [0, n - 3] as ITK maps a grid (see above).
AxisBasis make_axis_basis(int64_t length, int64_t control_points);

// Basis for the samples of a full-resolution axis of `length` voxels when the lattice was fitted
// on that axis shrunk by `shrink` (shrunk voxel j = full voxels [j*shrink, (j+1)*shrink), of
// `shrunk_length` voxels): full voxel i sits at shrunk index (i - (shrink - 1) / 2) / shrink,
// clamped to the fitted domain (the spline is held constant beyond its first and last sample).
AxisBasis make_axis_basis_shrunk(int64_t length, int64_t shrunk_length, int shrink,
                                 int64_t control_points);

// Precomputed per-level fitting weights for a grid and a lattice size.
struct BSplineFitPlan {
  std::array<int64_t, 3> dims{};      // grid, order z, y, x
  std::array<AxisBasis, 3> basis;     // per axis, order z, y, x
  std::array<std::vector<double>, 3> delta_w;  // B^3 / sum(B^2) per sample and tap
  std::array<std::vector<double>, 3> omega_w;  // B^2 per sample and tap
  std::vector<double> omega;          // sum over included points of the squared weights
};

// Builds the plan: per-axis weights and omega from the inclusion flags (nullptr = all voxels).
// Does not keep `include` after it returns.
BSplineFitPlan make_fit_plan(const std::array<int64_t, 3>& dims, const std::array<int64_t, 3>& control_points,
                             const uint8_t* include);

// One-level fit of `values` (a full grid; excluded voxels must hold 0, which is what makes them
// contribute nothing). Writes phi = delta / omega (0 where omega is 0) into dst, whose size must
// match the plan's control points. Multi-threaded with OpenMP.
void bspline_fit(const BSplineFitPlan& plan, const float* values, BSplineLattice& dst);

// Evaluates the lattice on the grid described by the three bases (order z, y, x) into dst
// ([basis z length][basis y length][basis x length]). Multi-threaded with OpenMP.
void bspline_evaluate(const BSplineLattice& lattice, const std::array<AxisBasis, 3>& basis, float* dst);

// The lattice with 2n - 3 control points per axis describing exactly the same cubic spline
// (ITK's RefineControlPointLattice with two levels).
BSplineLattice bspline_refine(const BSplineLattice& src);

}  // namespace vx::preprocess
