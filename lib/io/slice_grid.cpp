#include "io/slice_grid.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace vx {
namespace {

double dot(const std::array<double, 3>& a, const std::array<double, 3>& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

std::string mm(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f mm", v);
  return b;
}

}  // namespace

SliceGrid plan_slice_grid(const std::vector<std::array<double, 3>>& ipp, const std::vector<std::string>& labels,
                          const std::array<double, 3>& normal, double thickness, const std::string& where) {
  SliceGrid g;
  const size_t n = ipp.size();
  g.source_count = int64_t(n);
  g.origin = ipp.front();
  if (n == 1) {
    const double t = thickness > 0 ? thickness : 1.0;
    for (int a = 0; a < 3; ++a) g.step[a] = normal[a] * t;
    return g;
  }
  std::vector<double> s(n), gaps(n - 1);
  for (size_t k = 0; k < n; ++k) {
    const std::array<double, 3> d = {ipp[k][0] - ipp[0][0], ipp[k][1] - ipp[0][1], ipp[k][2] - ipp[0][2]};
    s[k] = dot(d, normal);
  }
  for (size_t k = 0; k + 1 < n; ++k) gaps[k] = s[k + 1] - s[k];
  for (size_t k = 0; k < n; ++k)
    if (!std::isfinite(s[k])) fail(Status::corrupt_file, "non-finite DICOM slice position" + where);
  std::vector<double> sorted = gaps;
  std::sort(sorted.begin(), sorted.end());
  const size_t m = sorted.size();
  g.median_gap_mm = m % 2 ? sorted[m / 2] : 0.5 * (sorted[m / 2 - 1] + sorted[m / 2]);
  g.min_gap_mm = sorted.front();
  g.max_gap_mm = sorted.back();
  g.tolerance_mm = std::max(0.01 * g.median_gap_mm, 0.001);
  const double tol = g.tolerance_mm;

  // Sheared: a position off the line through the first one along the normal.
  size_t worst_shear = 0;
  double shear = 0;
  for (size_t k = 1; k < n; ++k) {
    double off2 = 0;
    for (int a = 0; a < 3; ++a) {
      const double o = ipp[k][a] - ipp[0][a] - s[k] * normal[a];
      off2 += o * o;
    }
    if (std::sqrt(off2) > shear) shear = std::sqrt(off2), worst_shear = k;
  }
  if (shear > tol) {
    char deg[32];
    std::snprintf(deg, sizeof deg, "%.2f", std::atan2(shear, std::fabs(s[worst_shear])) * 180.0 / M_PI);
    fail(Status::unsupported, "DICOM slice positions are not along the slice normal" + where + ": " + labels[worst_shear] +
                                  " lies " + mm(shear) + " off the line through " + labels[0] +
                                  " (a shear or gantry tilt of about " + deg + " degrees; tolerance " + mm(tol) +
                                  "); sheared series are not supported");
  }

  const double step = (s[n - 1] - s[0]) / double(n - 1);
  double dev = 0;
  for (size_t k = 0; k < n; ++k) dev = std::max(dev, std::fabs(s[k] - s[0] - double(k) * step));
  if (dev <= tol) {
    for (int a = 0; a < 3; ++a) g.step[a] = (ipp[n - 1][a] - ipp[0][a]) / double(n - 1);
    return g;
  }

  g.regular = false;
  size_t worst = 0;
  for (size_t k = 1; k + 1 < n; ++k)
    if (std::fabs(gaps[k] - g.median_gap_mm) > std::fabs(gaps[worst] - g.median_gap_mm)) worst = k;
  g.problem = "the gap between " + labels[worst] + " and " + labels[worst + 1] + " (sorted slices " +
              std::to_string(worst + 1) + " and " + std::to_string(worst + 2) + " of " + std::to_string(n) + ") is " +
              mm(gaps[worst]) + " where the median gap is " + mm(g.median_gap_mm) + " (gaps range " + mm(g.min_gap_mm) +
              " to " + mm(g.max_gap_mm) + "; slices lie up to " + mm(dev) + " off a regular grid, tolerance " + mm(tol) +
              ")" + (gaps[worst] > 1.5 * g.median_gap_mm ? "; a slice may be missing" : "");

  const double d = g.median_gap_mm;
  const double span = std::floor((s[n - 1] - s[0]) / d + 0.01) + 1;
  // A grid far denser than the slices given means the median is not a slice gap at all.
  if (!(span <= 4.0 * double(n)))
    fail(Status::corrupt_file, "uneven DICOM slice positions" + where + ": " + g.problem +
                                   "; a regular grid at the median gap would need " + std::to_string(static_cast<long long>(std::min(span, 1e15))) +
                                   " slices for " + std::to_string(n) + " given, so none is made");
  const int64_t count = int64_t(span);
  for (int a = 0; a < 3; ++a) g.step[a] = normal[a] * d;
  size_t j = 0;
  for (int64_t k = 0; k < count; ++k) {
    const double t = double(k) * d;
    while (j + 2 < n && s[j + 1] < t) ++j;
    g.lo.push_back(int64_t(j));
    g.w.push_back(std::clamp((t - s[j]) / (s[j + 1] - s[j]), 0.0, 1.0));
  }
  return g;
}

void resample_slices(const SliceGrid& grid, const std::vector<const float*>& src, int64_t plane, float* dst) {
  for (size_t k = 0; k < grid.lo.size(); ++k) {
    const float* a = src[size_t(grid.lo[k])];
    const float* b = src[size_t(grid.lo[k]) + 1];
    const double w = grid.w[k];
    float* o = dst + int64_t(k) * plane;
    for (int64_t i = 0; i < plane; ++i) o[i] = static_cast<float>((1.0 - w) * a[i] + w * b[i]);
  }
}

std::string describe_resampling(const SliceGrid& grid, const std::string& path) {
  return "DICOM series '" + path + "' has uneven slice positions (" + grid.problem + "); resampled onto a regular grid of " +
         std::to_string(grid.count()) + " slices every " + mm(grid.median_gap_mm) + " from the first position (was " +
         std::to_string(grid.source_count) + " slices), linear interpolation along the slice normal";
}

}  // namespace vx
