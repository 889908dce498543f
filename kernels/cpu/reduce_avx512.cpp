// AVX-512 Reduce* over contiguous axes and LayerNormalization (issue 18). After dropping
// extent-1 axes and merging neighbours, a reduction is [outer, r, inner] (r reduced): rows
// (inner == 1: global average over space, LayerNorm-style last axis) reduce along the
// vector, columns (inner > 1) across vectors. Sums accumulate in double, as the reference
// does, so results differ from it in the last bits only; max / min are exact on numbers (a
// NaN input propagates in the reference, not necessarily here: vmaxps keeps one operand).
// Anything else (several reduced groups, prod, log_sum, log_sum_exp) goes to the reference.
#include <algorithm>
#include <cmath>
#include <limits>

#include "cpu/cpu_kernels.h"
#include "cpu/vec_math_avx512.h"
#include "ref/ref_kernels.h"

namespace vx::kern::cpu {

using namespace avx512;

namespace {

constexpr int64_t kParallelMin = 1 << 15;

inline __m512d lo_pd(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
inline __m512d hi_pd(__m512 v) {
  return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

// [outer, r, inner] when the reduced axes are one run of neighbours (after extent-1 axes
// are dropped); false otherwise.
bool as_three_axes(const ReduceParams& p, int64_t& outer, int64_t& r, int64_t& inner) {
  outer = r = inner = 1;
  int stage = 0;  // 0: before the run, 1: inside it, 2: after it
  for (int i = 0; i < p.rank; ++i) {
    if (p.shape[i] == 1) continue;
    if (p.reduced[i]) {
      if (stage == 2) return false;
      stage = 1;
      r *= p.shape[i];
    } else {
      if (stage == 1) stage = 2;
      (stage == 0 ? outer : inner) *= p.shape[i];
    }
  }
  return stage != 0;  // nothing reduced: the reference (a plain map)
}

bool sum_like(Reduce op) {
  return op == Reduce::sum || op == Reduce::mean || op == Reduce::l1 || op == Reduce::l2 || op == Reduce::sum_square;
}

inline __m512 prepare(Reduce op, __m512 v) {
  if (op == Reduce::l1) return _mm512_abs_ps(v);
  return v;
}

float finish(Reduce op, double v, int64_t r) {
  switch (op) {
    case Reduce::mean: return static_cast<float>(v / r);
    case Reduce::l2: return static_cast<float>(std::sqrt(v));
    default: return static_cast<float>(v);
  }
}

// One row of r contiguous values.
float reduce_row(Reduce op, const float* s, int64_t r) {
  if (sum_like(op)) {
    __m512d a0 = _mm512_setzero_pd(), a1 = a0;
    for (int64_t k = 0; k < r; k += 16) {
      const __m512 v = prepare(op, _mm512_maskz_loadu_ps(tail_mask(r - k), s + k));
      const __m512d l = lo_pd(v), h = hi_pd(v);
      if (op == Reduce::l2 || op == Reduce::sum_square) {
        a0 = _mm512_fmadd_pd(l, l, a0), a1 = _mm512_fmadd_pd(h, h, a1);
      } else {
        a0 = _mm512_add_pd(a0, l), a1 = _mm512_add_pd(a1, h);
      }
    }
    return finish(op, _mm512_reduce_add_pd(_mm512_add_pd(a0, a1)), r);
  }
  const bool mx = op == Reduce::max;
  const __m512 fill = _mm512_set1_ps(mx ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity());
  __m512 a = fill;
  for (int64_t k = 0; k < r; k += 16) {
    const __m512 v = _mm512_mask_loadu_ps(fill, tail_mask(r - k), s + k);
    a = mx ? _mm512_max_ps(a, v) : _mm512_min_ps(a, v);
  }
  return mx ? _mm512_reduce_max_ps(a) : _mm512_reduce_min_ps(a);
}

// Up to 16 columns (mask m) of an [r, inner] block.
void reduce_columns(Reduce op, const float* s, int64_t r, int64_t inner, __mmask16 m, float* d) {
  if (sum_like(op)) {
    __m512d a0 = _mm512_setzero_pd(), a1 = a0;
    const bool sq = op == Reduce::l2 || op == Reduce::sum_square;
    for (int64_t k = 0; k < r; ++k) {
      const __m512 v = prepare(op, _mm512_maskz_loadu_ps(m, s + k * inner));
      const __m512d l = lo_pd(v), h = hi_pd(v);
      if (sq) a0 = _mm512_fmadd_pd(l, l, a0), a1 = _mm512_fmadd_pd(h, h, a1);
      else a0 = _mm512_add_pd(a0, l), a1 = _mm512_add_pd(a1, h);
    }
    double t[16];
    _mm512_storeu_pd(t, a0), _mm512_storeu_pd(t + 8, a1);
    for (int l = 0; l < 16; ++l)
      if (m >> l & 1) d[l] = finish(op, t[l], r);
    return;
  }
  const bool mx = op == Reduce::max;
  __m512 a = _mm512_maskz_loadu_ps(m, s);
  for (int64_t k = 1; k < r; ++k) {
    const __m512 v = _mm512_maskz_loadu_ps(m, s + k * inner);
    a = mx ? _mm512_max_ps(a, v) : _mm512_min_ps(a, v);
  }
  _mm512_mask_storeu_ps(d, m, a);
}

}  // namespace

void reduce_f32__avx512_u16(const ReduceParams& p, const float* src, float* dst) {
  int64_t outer, r, inner;
  const bool fast = sum_like(p.op) || p.op == Reduce::max || p.op == Reduce::min;
  if (!fast || !as_three_axes(p, outer, r, inner)) return ref::reduce_f32__scalar_ref(p, src, dst);
  const int64_t total = outer * r * inner;
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
    for (int64_t o = 0; o < outer; ++o) dst[o] = reduce_row(p.op, src + o * r, r);
    return;
  }
  const int64_t blocks = (inner + 15) / 16;
#pragma omp parallel for collapse(2) schedule(static) if (total >= kParallelMin)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t b = 0; b < blocks; ++b)
      reduce_columns(p.op, src + o * r * inner + b * 16, r, inner, tail_mask(inner - b * 16), dst + o * inner + b * 16);
}

void layer_norm_f32__avx512_u16(const LayerNormParams& p, const float* src, const float* scale, const float* bias,
                                float* dst, float* mean, float* inv_std) {
  const int64_t n = p.inner;
#pragma omp parallel for schedule(static) if (p.outer * n >= kParallelMin)
  for (int64_t row = 0; row < p.outer; ++row) {
    const float* x = src + row * n;
    float* y = dst + row * n;
    __m512d a0 = _mm512_setzero_pd(), a1 = a0, b0 = a0, b1 = a0;
    for (int64_t i = 0; i < n; i += 16) {
      const __m512 v = _mm512_maskz_loadu_ps(tail_mask(n - i), x + i);
      const __m512d l = lo_pd(v), h = hi_pd(v);
      a0 = _mm512_add_pd(a0, l), a1 = _mm512_add_pd(a1, h);
      b0 = _mm512_fmadd_pd(l, l, b0), b1 = _mm512_fmadd_pd(h, h, b1);
    }
    const double m = _mm512_reduce_add_pd(_mm512_add_pd(a0, a1)) / n;
    const double var = std::max(0.0, _mm512_reduce_add_pd(_mm512_add_pd(b0, b1)) / n - m * m);
    const double rs = 1.0 / std::sqrt(var + p.eps);
    if (mean) mean[row] = static_cast<float>(m);
    if (inv_std) inv_std[row] = static_cast<float>(rs);
    // y = (x - mean) * rstd * scale + bias in float, the statistics rounded once per row.
    const __m512 vm = _mm512_set1_ps(static_cast<float>(m)), vr = _mm512_set1_ps(static_cast<float>(rs));
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 mk = tail_mask(n - i);
      __m512 z = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(mk, x + i), vm), vr);
      if (scale) z = _mm512_mul_ps(z, _mm512_maskz_loadu_ps(mk, scale + i));
      if (bias) z = _mm512_add_ps(z, _mm512_maskz_loadu_ps(mk, bias + i));
      _mm512_mask_storeu_ps(y + i, mk, z);
    }
  }
}

}  // namespace vx::kern::cpu
