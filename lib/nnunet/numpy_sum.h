// NumPy's pairwise summation (numpy/core/src/umath/loops_utils.h.src, PW_BLOCKSIZE 128, eight
// accumulators), in the array's own precision: nnU-Net's z-score takes mean() and std() of
// float32 arrays, and the same sums in the same order give the same float32 statistics.
#pragma once
#include <cstddef>

namespace vx::nnunet {

template <typename T>
T numpy_pairwise_sum(const T* a, std::ptrdiff_t n) {
  if (n < 8) {
    T res = T(0);  // numpy starts from -0.0 here; the same for any non-empty sum of finite values
    for (std::ptrdiff_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    T r[8];
    for (int k = 0; k < 8; ++k) r[k] = a[k];
    std::ptrdiff_t i;
    for (i = 8; i < n - (n % 8); i += 8)
      for (int k = 0; k < 8; ++k) r[k] += a[i + k];
    T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::ptrdiff_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

}  // namespace vx::nnunet
