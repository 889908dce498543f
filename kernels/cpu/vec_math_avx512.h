// Vector math shared by the AVX-512 translation units. Include ONLY from *_avx512.cpp files
// (compiled with -mavx512f): everything here is static inline so no AVX-512 code can leak
// into a symbol another file might use.
#pragma once
#include <immintrin.h>

#include "params.h"

namespace vx::kern::cpu::avx512 {

// exp(x) for 16 floats, Cephes-style: x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial for
// exp(r), then scale by 2^n. Max error about 2 ulp over [-87, 88]; inputs are clamped there
// (below -87.3 the result is ~1e-38 instead of a denormal or 0).
static inline __m512 exp_ps(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.7f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.f)));
  return _mm512_scalef_ps(p, n);
}

// Horizontal sum / max of 16 lanes (GCC 12's _mm512_reduce_* warn spuriously under -Wextra).
static inline float hsum_ps(__m512 v) {
  const __m256 lo = _mm512_castps512_ps256(v);
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  __m256 s = _mm256_add_ps(lo, hi);
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}
static inline float hmax_ps(__m512 v) {
  const __m256 lo = _mm512_castps512_ps256(v);
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  __m256 s = _mm256_max_ps(lo, hi);
  __m128 q = _mm_max_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  q = _mm_max_ps(q, _mm_movehl_ps(q, q));
  q = _mm_max_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

// Mask of the first `n` lanes (n in [0, 16]).
static inline __mmask16 tail_mask(long n) { return n >= 16 ? 0xffff : static_cast<__mmask16>((1u << n) - 1u); }

// A fused convolution's post-ops on 16 outputs (kernels/params.h ConvPostOps): the residual
// (loaded under mask `m` from `res`) added, then the activation.
static inline __m512 conv_post(__m512 v, const ConvPostOps& po, const float* res, __mmask16 m) {
  if (po.has_residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, res));
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.f);
  switch (po.act) {
    case Unary::identity: return v;
    case Unary::relu: return _mm512_max_ps(v, zero);
    case Unary::leaky_relu:
      return _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), v, _mm512_set1_ps(po.alpha));
    case Unary::sigmoid: return _mm512_div_ps(one, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(zero, v))));
    case Unary::tanh:
      return _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.f), _mm512_add_ps(exp_ps(_mm512_add_ps(v, v)), one)));
  }
  return v;
}

}  // namespace vx::kern::cpu::avx512
