#pragma once
// Field helpers shared by the N4 tests (n4_test.cpp, n4_itk_test.cpp).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

namespace vx::test::n4 {

// A smooth multiplicative field, about x0.6 .. x1.9 across the volume.
inline std::vector<float> known_field(const std::array<int64_t, 3>& d) {
  std::vector<float> f(static_cast<size_t>(d[0] * d[1] * d[2]));
  for (int64_t z = 0; z < d[0]; ++z)
    for (int64_t y = 0; y < d[1]; ++y)
      for (int64_t x = 0; x < d[2]; ++x) {
        const double u = double(z) / (d[0] - 1), v = double(y) / (d[1] - 1), w = double(x) / (d[2] - 1);
        const double l = 0.4 * std::sin(2.2 * w + 0.5) + 0.3 * (v - 0.5) * (v - 0.5) * 4 - 0.3 * u + 0.2 * w * v;
        f[static_cast<size_t>((z * d[1] + y) * d[2] + x)] = static_cast<float>(std::exp(l));
      }
  return f;
}

// RMS over the mask of log(estimate) - log(truth) after removing the mean (N4's field is only
// defined up to a constant factor).
inline double log_field_rms(const std::vector<float>& est, const std::vector<float>& truth, const std::vector<uint8_t>& m) {
  double n = 0, s = 0, ss = 0;
  for (size_t i = 0; i < est.size(); ++i)
    if (m[i]) {
      const double d = std::log(est[i]) - std::log(truth[i]);
      n += 1, s += d, ss += d * d;
    }
  return std::sqrt(std::max(0.0, ss / n - (s / n) * (s / n)));
}

inline bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

}  // namespace vx::test::n4
