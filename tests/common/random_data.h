// Reproducible random test data.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace vx::test {

// `n` floats uniform in [lo, hi) from seed `seed` (std::mt19937: the same on every platform).
inline std::vector<float> uniform_floats(int64_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(g);
  return v;
}

}  // namespace vx::test
