// Reference LayerNormalization and LogSoftmax (issue 18), forward and backward. Row
// statistics in double, two passes (mean, then centred variance).
#include <cmath>
#include <vector>

#include "ref/backward_ref.h"
#include "ref/ref_kernels.h"

namespace vx::kern::ref {
namespace {

void row_stats(const float* x, int64_t n, double eps, double& mean, double& rstd) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  mean = s / n;
  double v = 0;
  for (int64_t i = 0; i < n; ++i) v += (x[i] - mean) * (x[i] - mean);
  rstd = 1.0 / std::sqrt(v / n + eps);
}

}  // namespace

void layer_norm_f32__scalar_ref(const LayerNormParams& p, const float* src, const float* scale, const float* bias,
                                float* dst, float* mean, float* inv_std) {
  for (int64_t r = 0; r < p.outer; ++r) {
    const float* x = src + r * p.inner;
    float* y = dst + r * p.inner;
    double m, rs;
    row_stats(x, p.inner, p.eps, m, rs);
    for (int64_t i = 0; i < p.inner; ++i)
      y[i] = static_cast<float>((x[i] - m) * rs * (scale ? scale[i] : 1.f) + (bias ? bias[i] : 0.f));
    if (mean) mean[r] = static_cast<float>(m);
    if (inv_std) inv_std[r] = static_cast<float>(rs);
  }
}

// u = dy * scale; dx = rstd * (u - mean(u) - xhat * mean(u * xhat)) per row.
void layer_norm_backward(const LayerNormParams& p, const float* x, const float* scale, const float* dy, float* dx) {
  std::vector<double> u(static_cast<size_t>(p.inner)), xh(u.size());
  for (int64_t r = 0; r < p.outer; ++r) {
    const int64_t o = r * p.inner;
    double m, rs;
    row_stats(x + o, p.inner, p.eps, m, rs);
    double su = 0, sux = 0;
    for (int64_t i = 0; i < p.inner; ++i) {
      xh[i] = (x[o + i] - m) * rs;
      u[i] = static_cast<double>(dy[o + i]) * (scale ? scale[i] : 1.f);
      su += u[i];
      sux += u[i] * xh[i];
    }
    su /= p.inner;
    sux /= p.inner;
    for (int64_t i = 0; i < p.inner; ++i) dx[o + i] = static_cast<float>(rs * (u[i] - su - xh[i] * sux));
  }
}

void log_softmax_f32__scalar_ref(int64_t outer, int64_t c, int64_t inner, const float* src, float* dst) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* s = src + o * c * inner + i;
      float* d = dst + o * c * inner + i;
      double m = s[0];
      for (int64_t k = 1; k < c; ++k) m = s[k * inner] > m ? s[k * inner] : m;
      double sum = 0;
      for (int64_t k = 0; k < c; ++k) sum += std::exp(s[k * inner] - m);
      const double shift = m + std::log(sum);
      for (int64_t k = 0; k < c; ++k) d[k * inner] = static_cast<float>(s[k * inner] - shift);
    }
}

void log_softmax_backward(int64_t outer, int64_t c, int64_t inner, const float* y, const float* dy, float* dx) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * c * inner + i;
      double sum = 0;
      for (int64_t k = 0; k < c; ++k) sum += dy[base + k * inner];
      for (int64_t k = 0; k < c; ++k)
        dx[base + k * inner] = static_cast<float>(dy[base + k * inner] - std::exp(static_cast<double>(y[base + k * inner])) * sum);
    }
}

}  // namespace vx::kern::ref
