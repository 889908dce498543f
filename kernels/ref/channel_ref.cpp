#include <cmath>

#include "ref/ref_kernels.h"

namespace vx::kern::ref {

void channel_affine_f32__scalar_ref(int64_t n, int64_t c, int64_t inner, const float* scale, const float* shift, const float* src,
                    float* dst) {
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      const int64_t base = (b * c + ch) * inner;
      for (int64_t i = 0; i < inner; ++i) dst[base + i] = src[base + i] * scale[ch] + shift[ch];
    }
}

// Subtracts the maximum first so exp never overflows.
void softmax_f32__scalar_ref(int64_t outer, int64_t c, int64_t inner, const float* src, float* dst) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* s = src + o * c * inner + i;
      float* d = dst + o * c * inner + i;
      float m = s[0];
      for (int64_t k = 1; k < c; ++k) m = s[k * inner] > m ? s[k * inner] : m;
      float sum = 0.f;
      for (int64_t k = 0; k < c; ++k) {
        d[k * inner] = std::exp(s[k * inner] - m);
        sum += d[k * inner];
      }
      for (int64_t k = 0; k < c; ++k) d[k * inner] /= sum;
    }
}

void linear_f32__scalar_ref(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias, float* y) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float acc = bias ? bias[j] : 0.f;
      for (int64_t t = 0; t < k; ++t) acc += x[i * k + t] * w[j * k + t];
      y[i * n + j] = acc;
    }
}

}  // namespace vx::kern::ref
