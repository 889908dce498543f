// Reference instance / group normalisation and PRelu (issue 18), forward and backward.
// Statistics in double, two passes (mean, then centred variance): the oracle the fast
// kernels are tested against.
#include <cmath>
#include <vector>

#include "ref/backward_ref.h"
#include "ref/ref_kernels.h"

namespace vx::kern::ref {
namespace {

// Offset of element (b, ch, s) of [n, c, spatial] in layout `p.layout`.
int64_t at(const NormParams& p, int64_t b, int64_t ch, int64_t s) {
  if (p.layout == Layout::blocked16) return ((b * (p.c / 16) + ch / 16) * p.spatial + s) * 16 + ch % 16;
  return (b * p.c + ch) * p.spatial + s;
}

float slope_of(const float* slope, int64_t count, int64_t ch) { return slope[count == 1 ? 0 : ch]; }

float activate(const NormParams& p, int64_t ch, float z) {
  if (p.slope) return z < 0.f ? z * slope_of(p.slope, p.slope_count, ch) : z;
  switch (p.act) {
    case Unary::relu: return z > 0.f ? z : 0.f;
    case Unary::leaky_relu: return z < 0.f ? z * p.alpha : z;
    default: return z;
  }
}

// d act / dz at pre-activation z, as PyTorch's autograd: 0 (relu) or the slope (leaky, PRelu) at z = 0.
float activate_grad(const NormParams& p, int64_t ch, float z) {
  if (p.slope) return z > 0.f ? 1.f : slope_of(p.slope, p.slope_count, ch);
  switch (p.act) {
    case Unary::relu: return z > 0.f ? 1.f : 0.f;
    case Unary::leaky_relu: return z > 0.f ? 1.f : p.alpha;
    default: return 1.f;
  }
}

// Mean and 1/sqrt(var + eps) of group g of sample b.
void group_stats(const NormParams& p, const float* x, int64_t b, int64_t g, double& mean, double& rstd) {
  double sum = 0;
  const int64_t count = p.group * p.spatial;
  for (int64_t ch = g * p.group; ch < (g + 1) * p.group; ++ch)
    for (int64_t s = 0; s < p.spatial; ++s) sum += x[at(p, b, ch, s)];
  mean = sum / count;
  double var = 0;
  for (int64_t ch = g * p.group; ch < (g + 1) * p.group; ++ch)
    for (int64_t s = 0; s < p.spatial; ++s) {
      const double d = x[at(p, b, ch, s)] - mean;
      var += d * d;
    }
  rstd = 1.0 / std::sqrt(var / count + p.eps);
}

}  // namespace

void group_norm_f32__scalar_ref(const NormParams& p, const float* src, const float* scale, const float* bias,
                                float* dst) {
  for (int64_t b = 0; b < p.n; ++b)
    for (int64_t g = 0; g < p.c / p.group; ++g) {
      double mean, rstd;
      group_stats(p, src, b, g, mean, rstd);
      for (int64_t ch = g * p.group; ch < (g + 1) * p.group; ++ch) {
        // Folded per channel: y = act(x * k + (bias - mean * k)), k = scale * rstd.
        const float k = static_cast<float>(scale[ch] * rstd);
        const float t = static_cast<float>(bias[ch] - mean * scale[ch] * rstd);
        for (int64_t s = 0; s < p.spatial; ++s) {
          const int64_t i = at(p, b, ch, s);
          dst[i] = activate(p, ch, src[i] * k + t);
        }
      }
    }
}

void prelu_f32__scalar_ref(int64_t n, int64_t c, int64_t inner, const float* slope, int64_t slope_count,
                           const float* src, float* dst) {
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      const float a = slope_of(slope, slope_count, ch);
      const int64_t base = (b * c + ch) * inner;
      for (int64_t i = 0; i < inner; ++i) dst[base + i] = src[base + i] < 0.f ? src[base + i] * a : src[base + i];
    }
}

// dz = dy * act'(z); dx = k * (dz - mean(dz) - xhat * mean(dz * xhat)) per group, where the
// means run over the group, k = scale[ch] * rstd applies per channel before the means:
// with u = dz * scale: dx = rstd * (u - mean(u) - xhat * mean(u * xhat)).
void group_norm_backward(const NormParams& p, const float* x, const float* scale, const float* bias, const float* dy,
                         float* dx) {
  const int64_t count = p.group * p.spatial;
  std::vector<double> u(static_cast<size_t>(count)), xh(static_cast<size_t>(count));
  for (int64_t b = 0; b < p.n; ++b)
    for (int64_t g = 0; g < p.c / p.group; ++g) {
      double mean, rstd;
      group_stats(p, x, b, g, mean, rstd);
      double su = 0, sux = 0;
      for (int64_t j = 0; j < count; ++j) {
        const int64_t ch = g * p.group + j / p.spatial, i = at(p, b, ch, j % p.spatial);
        xh[j] = (x[i] - mean) * rstd;
        const float z = static_cast<float>(xh[j] * scale[ch] + bias[ch]);
        u[j] = dy[i] * activate_grad(p, ch, z) * scale[ch];
        su += u[j];
        sux += u[j] * xh[j];
      }
      su /= count;
      sux /= count;
      for (int64_t j = 0; j < count; ++j) {
        const int64_t ch = g * p.group + j / p.spatial;
        dx[at(p, b, ch, j % p.spatial)] = static_cast<float>(rstd * (u[j] - su - xh[j] * sux));
      }
    }
}

void prelu_backward(int64_t n, int64_t c, int64_t inner, const float* slope, int64_t slope_count, const float* x,
                    const float* dy, float* dx) {
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      const float a = slope_of(slope, slope_count, ch);
      const int64_t base = (b * c + ch) * inner;
      for (int64_t i = 0; i < inner; ++i) dx[base + i] = x[base + i] > 0.f ? dy[base + i] : dy[base + i] * a;
    }
}

}  // namespace vx::kern::ref
