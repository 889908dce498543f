#include "image/intensity.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace vx {
namespace {

void check(const Tensor& t) {
  require(t.defined() && t.dtype() == DType::f32 && t.is_contiguous() && t.numel() > 0, Status::invalid_argument,
          "intensity operations need a non-empty contiguous float32 tensor");
}

}  // namespace

double percentile(const Tensor& t, double p) {
  check(t);
  if (!(p >= 0 && p <= 100)) fail(Status::invalid_argument, "percentile must be in [0, 100]");
  const float* x = t.f32();
  const size_t n = static_cast<size_t>(t.numel());
  std::vector<float> v(x, x + n);
  for (float f : v)
    if (std::isnan(f)) fail(Status::invalid_argument, "percentile of data containing NaN");
  const double rank = p / 100.0 * double(n - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, n - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const double a = v[lo];
  double b = a;
  if (hi != lo) b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
  const double frac = rank - double(lo);
  return a + (b - a) * frac;
}

void clip(Tensor& t, float lo, float hi) {
  check(t);
  if (!(lo <= hi)) fail(Status::invalid_argument, "clip bounds must satisfy lo <= hi");
  float* x = t.f32();
  for (int64_t i = 0; i < t.numel(); ++i) x[i] = std::min(std::max(x[i], lo), hi);
}

void clip_percentile(Tensor& t, double lower_p, double upper_p) {
  if (!(lower_p <= upper_p)) fail(Status::invalid_argument, "lower percentile must not exceed the upper one");
  const double lo = percentile(t, lower_p), hi = percentile(t, upper_p);
  clip(t, static_cast<float>(lo), static_cast<float>(hi));
}

void zscore(Tensor& t, int ddof, const Tensor* mask, double eps) {
  check(t);
  if (ddof < 0) fail(Status::invalid_argument, "ddof must be >= 0");
  const float* m = nullptr;
  if (mask) {
    check(*mask);
    require(mask->shape() == t.shape(), Status::shape_mismatch, "z-score mask must have the image's shape");
    m = mask->f32();
  }
  float* x = t.f32();
  double sum = 0;
  int64_t n = 0;
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!m || m[i] > 0.5f) sum += x[i], ++n;
  if (n <= ddof) fail(Status::invalid_argument, "z-score needs more voxels (is the mask empty?)");
  const double mean = sum / double(n);
  double ss = 0;
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!m || m[i] > 0.5f) ss += (x[i] - mean) * (x[i] - mean);
  const double sd = std::sqrt(ss / double(n - ddof));
  const double inv = sd > eps ? 1.0 / sd : 1.0;
  for (int64_t i = 0; i < t.numel(); ++i) x[i] = static_cast<float>((x[i] - mean) * inv);
}

void max_scale(Tensor& t) {
  check(t);
  float* x = t.f32();
  float mx = *std::max_element(x, x + t.numel());
  if (!(mx > 0) || !std::isfinite(mx)) return;
  for (int64_t i = 0; i < t.numel(); ++i) x[i] /= mx;
}

}  // namespace vx
