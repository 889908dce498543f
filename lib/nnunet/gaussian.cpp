#include "nnunet/gaussian.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "nnunet/half.h"
#include "nnunet/numpy_sum.h"

namespace vx::nnunet {

std::vector<double> gaussian_kernel1d(double sigma, int64_t radius) {
  const double s2 = sigma * sigma;
  std::vector<double> phi;
  for (int64_t x = -radius; x <= radius; ++x) phi.push_back(std::exp(-0.5 / s2 * double(x * x)));
  const double sum = numpy_pairwise_sum(phi.data(), std::ptrdiff_t(phi.size()));
  for (double& v : phi) v /= sum;
  return phi;
}

namespace {
// The filtered impulse along one axis of length n with the impulse at c: the kernel's weight at
// i - c, or 0 beyond its radius (scipy's correlate1d adds only zeros besides this product).
std::vector<double> axis_weights(int64_t n, double sigma) {
  const int64_t radius = int64_t(4.0 * sigma + 0.5), c = n / 2;
  const auto k = gaussian_kernel1d(sigma, radius);
  std::vector<double> w(static_cast<size_t>(n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    if (std::llabs(i - c) <= radius) w[size_t(i)] = k[size_t(i - c + radius)];
  return w;
}
}  // namespace

std::vector<float> compute_gaussian(const std::vector<int64_t>& patch, double sigma_scale,
                                    double value_scaling_factor) {
  if (patch.empty() || patch.size() > 3) throw Error(Status::invalid_argument, "nnU-Net Gaussian: patch must have 1 to 3 axes");
  int64_t total = 1;
  std::vector<std::vector<double>> w;
  for (int64_t p : patch) {
    if (p <= 0) throw Error(Status::invalid_argument, "nnU-Net Gaussian: patch sizes must be positive");
    w.push_back(axis_weights(p, double(p) * sigma_scale));
    total *= p;
  }
  // Filtering axis 0 first, then 1, then 2: each pass multiplies by that axis' weight.
  std::vector<double> g(static_cast<size_t>(total));
  double peak = 0;
  for (int64_t i = 0; i < total; ++i) {
    int64_t rem = i;
    std::vector<int64_t> idx(patch.size());
    for (size_t d = patch.size(); d-- > 0;) {
      idx[d] = rem % patch[d];
      rem /= patch[d];
    }
    double v = 1.0;
    for (size_t d = 0; d < patch.size(); ++d) v = v * w[d][size_t(idx[d])];
    g[size_t(i)] = v;
    peak = std::max(peak, v);
  }
  const double scale = peak / value_scaling_factor;
  std::vector<float> out(static_cast<size_t>(total));
  float min_nonzero = std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < g.size(); ++i) {
    out[i] = round_to_half(float(g[i] / scale));
    if (out[i] != 0.0f) min_nonzero = std::min(min_nonzero, out[i]);
  }
  for (float& v : out)
    if (v == 0.0f) v = min_nonzero;
  return out;
}

}  // namespace vx::nnunet
