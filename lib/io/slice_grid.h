// Where the slices of a DICOM series lie along the slice normal, checked against a regular
// grid, and (when asked) the plan that resamples them onto one in world space.
//
// Positions are ImagePositionPatient projected on the unit slice normal (row x column
// cosine), sorted ascending. Tolerance: tol = max(1% of the median gap, 0.001 mm).
//  - Regular: every slice lies within tol of the grid from the first to the last position
//    in n - 1 equal steps (small jitter is accepted; the affine's slice column is then
//    (IPP_last - IPP_first) / (n - 1), as before).
//  - Uneven (a missing slice, gaps that change, jitter above tol): `regular` is false and
//    `problem` names the gap furthest from the median, in mm, and between which slices.
//  - Sheared (an IPP more than tol off the line through the first IPP along the normal:
//    CT gantry tilt or a sheared stack): refused with Error(unsupported), the tilt named.
// The resampling grid (resample_slices): from the first position, every median gap, up to
// the last position (the last grid slice is within 1% of a gap of the last true slice or
// before it; nothing is extrapolated); each grid slice is the linear interpolation along the
// normal between the two nearest true slices that enclose it.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vx {

struct SliceGrid {
  bool regular = true;
  std::string problem;                 // why not regular (empty when regular)
  std::array<double, 3> origin{};      // IPP of grid slice 0 (LPS mm)
  std::array<double, 3> step{};        // LPS mm from one grid slice to the next
  double tolerance_mm = 0;             // the tol above
  double median_gap_mm = 0, min_gap_mm = 0, max_gap_mm = 0;
  // The resampling plan: grid slice k = (1 - w[k]) * source lo[k] + w[k] * source lo[k] + 1.
  std::vector<int64_t> lo;
  std::vector<double> w;
  int64_t count() const { return regular ? source_count : int64_t(lo.size()); }
  int64_t source_count = 0;
};

// `ipp` sorted along `normal` (unit), distinct; `labels[k]` says which slice k is (e.g.
// "InstanceNumber 12"); `thickness` gives the step of a single slice (1 mm when 0).
// `where` ends error messages (e.g. " in 'DIR'"). Throws Error(unsupported) for a sheared series.
SliceGrid plan_slice_grid(const std::vector<std::array<double, 3>>& ipp, const std::vector<std::string>& labels,
                          const std::array<double, 3>& normal, double thickness, const std::string& where);

// Fills `dst` (grid.count() planes of `plane` floats) from the sorted source planes.
void resample_slices(const SliceGrid& grid, const std::vector<const float*>& src, int64_t plane, float* dst);

// The one-line warning that a series was resampled (for the log and the reports).
std::string describe_resampling(const SliceGrid& grid, const std::string& path);

}  // namespace vx
