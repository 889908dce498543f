// AVX-512 instance / group normalisation with a fused activation (issue 18), plain and
// blocked16, and PRelu. Pass 1 sums x and x^2 per channel in double (so 2M-voxel channels
// keep ~1e-12 relative error) over spatial chunks in parallel; the chunk sums are combined
// per group; pass 2 applies y = act(x * k + t) with k, t folded per channel in double.
// The same mul-then-add as the reference, so results differ from it only where the
// statistics round differently (last bits).
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/cpu_kernels.h"
#include "cpu/vec_math_avx512.h"

namespace vx::kern::cpu {

using namespace avx512;

namespace {

constexpr int64_t kChunk = 4096;  // spatial positions per parallel task

struct Sums {
  double s[16] = {}, q[16] = {};  // plain: lane 0 only
};

inline __m512d lo_pd(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
inline __m512d hi_pd(__m512 v) {
  return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

// Sums of positions [s0, s1) of one plain channel row or one blocked group of 16 channels.
void chunk_sums(const float* base, int64_t s0, int64_t s1, bool blocked, Sums& out) {
  __m512d a0 = _mm512_setzero_pd(), a1 = a0, b0 = a0, b1 = a0;
  if (blocked) {
    for (int64_t s = s0; s < s1; ++s) {
      const __m512 v = _mm512_loadu_ps(base + s * 16);
      const __m512d l = lo_pd(v), h = hi_pd(v);
      a0 = _mm512_add_pd(a0, l), a1 = _mm512_add_pd(a1, h);
      b0 = _mm512_fmadd_pd(l, l, b0), b1 = _mm512_fmadd_pd(h, h, b1);
    }
    _mm512_storeu_pd(out.s, a0), _mm512_storeu_pd(out.s + 8, a1);
    _mm512_storeu_pd(out.q, b0), _mm512_storeu_pd(out.q + 8, b1);
    return;
  }
  for (int64_t s = s0; s < s1; s += 16) {
    const __m512 v = _mm512_maskz_loadu_ps(tail_mask(s1 - s), base + s);
    const __m512d l = lo_pd(v), h = hi_pd(v);
    a0 = _mm512_add_pd(a0, l), a1 = _mm512_add_pd(a1, h);
    b0 = _mm512_fmadd_pd(l, l, b0), b1 = _mm512_fmadd_pd(h, h, b1);
  }
  out.s[0] = _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
  out.q[0] = _mm512_reduce_add_pd(_mm512_add_pd(b0, b1));
}

inline __m512 act_vec(const NormParams& p, __m512 z, __m512 slope) {
  const __m512 zero = _mm512_setzero_ps();
  if (p.slope || p.act == Unary::leaky_relu) return _mm512_mask_mul_ps(z, _mm512_cmp_ps_mask(z, zero, _CMP_LT_OQ), z, slope);
  if (p.act == Unary::relu) return _mm512_max_ps(z, zero);
  return z;
}

}  // namespace

void group_norm_f32__avx512_u16(const NormParams& p, const float* src, const float* scale, const float* bias,
                                float* dst) {
  const bool blocked = p.layout == Layout::blocked16;
  const int64_t rows = blocked ? p.n * (p.c / 16) : p.n * p.c;  // channel rows or 16-channel blocks
  const int64_t row_len = blocked ? p.spatial * 16 : p.spatial;
  const int64_t chunks = (p.spatial + kChunk - 1) / kChunk, tasks = rows * chunks;
  std::vector<Sums> part(static_cast<size_t>(tasks));
#pragma omp parallel for schedule(static) if (rows * row_len >= (1 << 15))
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t r = t / chunks, k = t % chunks;
    chunk_sums(src + r * row_len, k * kChunk, std::min(p.spatial, (k + 1) * kChunk), blocked, part[t]);
  }
  // Per (sample, channel) sums, then per group mean / rstd, then folded k and t per channel.
  std::vector<double> cs(static_cast<size_t>(p.n * p.c), 0.0), cq(cs.size(), 0.0);
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t r = t / chunks;
    if (blocked) {
      const int64_t b = r / (p.c / 16), c0 = (r % (p.c / 16)) * 16;
      for (int l = 0; l < 16; ++l) cs[b * p.c + c0 + l] += part[t].s[l], cq[b * p.c + c0 + l] += part[t].q[l];
    } else {
      cs[r] += part[t].s[0], cq[r] += part[t].q[0];
    }
  }
  std::vector<float> kk(cs.size()), tt(cs.size()), slope(cs.size(), p.alpha);
  const double count = static_cast<double>(p.group * p.spatial);
  for (int64_t b = 0; b < p.n; ++b)
    for (int64_t g = 0; g < p.c / p.group; ++g) {
      double s = 0, q = 0;
      for (int64_t ch = g * p.group; ch < (g + 1) * p.group; ++ch) s += cs[b * p.c + ch], q += cq[b * p.c + ch];
      const double mean = s / count, var = std::max(0.0, q / count - mean * mean);
      const double rstd = 1.0 / std::sqrt(var + p.eps);
      for (int64_t ch = g * p.group; ch < (g + 1) * p.group; ++ch) {
        kk[b * p.c + ch] = static_cast<float>(scale[ch] * rstd);
        tt[b * p.c + ch] = static_cast<float>(bias[ch] - mean * scale[ch] * rstd);
        if (p.slope) slope[b * p.c + ch] = p.slope[p.slope_count == 1 ? 0 : ch];
      }
    }
#pragma omp parallel for schedule(static) if (rows * row_len >= (1 << 15))
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t r = t / chunks, k = t % chunks;
    const int64_t s0 = k * kChunk, s1 = std::min(p.spatial, (k + 1) * kChunk);
    const float* in = src + r * row_len;
    float* out = dst + r * row_len;
    if (blocked) {
      const int64_t b = r / (p.c / 16), c0 = b * p.c + (r % (p.c / 16)) * 16;
      const __m512 vk = _mm512_loadu_ps(&kk[c0]), vt = _mm512_loadu_ps(&tt[c0]), va = _mm512_loadu_ps(&slope[c0]);
      for (int64_t s = s0; s < s1; ++s)
        _mm512_storeu_ps(out + s * 16, act_vec(p, _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(in + s * 16), vk), vt), va));
    } else {
      const __m512 vk = _mm512_set1_ps(kk[r]), vt = _mm512_set1_ps(tt[r]), va = _mm512_set1_ps(slope[r]);
      for (int64_t s = s0; s < s1; s += 16) {
        const __mmask16 m = tail_mask(s1 - s);
        _mm512_mask_storeu_ps(out + s, m, act_vec(p, _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, in + s), vk), vt), va));
      }
    }
  }
}

void prelu_f32__avx512_u16(int64_t n, int64_t c, int64_t inner, const float* slope, int64_t slope_count,
                           const float* src, float* dst) {
  const __m512 zero = _mm512_setzero_ps();
#pragma omp parallel for schedule(static) if (n * c * inner >= (1 << 15))
  for (int64_t row = 0; row < n * c; ++row) {
    const __m512 a = _mm512_set1_ps(slope[slope_count == 1 ? 0 : row % c]);
    const float* in = src + row * inner;
    float* out = dst + row * inner;
    for (int64_t i = 0; i < inner; i += 16) {
      const __mmask16 m = tail_mask(inner - i);
      const __m512 v = _mm512_maskz_loadu_ps(m, in + i);
      _mm512_mask_storeu_ps(out + i, m, _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), v, a));
    }
  }
}

}  // namespace vx::kern::cpu
