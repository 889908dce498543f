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

// log(x) for 16 floats, Cephes-style: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) by a
// degree-8 polynomial in f = m - 1, plus e ln2 in two parts. About 1 ulp over the normal and
// subnormal range (getexp/getmant normalise subnormals); log(0) = -inf, log(x < 0) = NaN,
// log(inf) = inf, NaN stays NaN.
static inline __m512 log_ps(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.f);
  __m512 m = _mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);  // [1, 2)
  __m512 e = _mm512_getexp_ps(x);
  const __mmask16 big = _mm512_cmp_ps_mask(m, _mm512_set1_ps(1.41421356237f), _CMP_GT_OQ);
  m = _mm512_mask_mul_ps(m, big, m, _mm512_set1_ps(0.5f));
  e = _mm512_mask_add_ps(e, big, e, one);
  const __m512 f = _mm512_sub_ps(m, one);
  const __m512 z = _mm512_mul_ps(f, f);
  __m512 p = _mm512_set1_ps(7.0376836292e-2f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(-1.1514610310e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.1676998740e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(-1.2420140846e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.4249322787e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(-1.6668057665e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.0000714765e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(-2.4999993993e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(3.3333331174e-1f));
  __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, z), f);
  y = _mm512_fmadd_ps(e, _mm512_set1_ps(-2.12194440e-4f), y);
  y = _mm512_fnmadd_ps(_mm512_set1_ps(0.5f), z, y);
  __m512 r = _mm512_add_ps(f, y);
  r = _mm512_fmadd_ps(e, _mm512_set1_ps(0.693359375f), r);
  const __m512 inf = _mm512_set1_ps(__builtin_inff());
  r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(x, inf, _CMP_EQ_OQ), inf);
  r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_EQ_OQ), _mm512_sub_ps(_mm512_setzero_ps(), inf));
  r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), _mm512_set1_ps(__builtin_nanf("")));
  return r;
}

// erf(x) for 16 floats: an odd minimax polynomial below |x| = 0.9277, 1 - exp(poly(|x|))
// above (Norbert Juffa's erff split, about 1 ulp with a correct exp; exp_ps adds ~2 ulp of
// exp(poly) < 0.2 there).
static inline __m512 erf_ps(__m512 a) {
  const __m512 t = _mm512_abs_ps(a), s = _mm512_mul_ps(a, a);
  __m512 r = _mm512_set1_ps(-5.96761703e-4f);
  r = _mm512_fmadd_ps(r, s, _mm512_set1_ps(4.99119423e-3f));
  r = _mm512_fmadd_ps(r, s, _mm512_set1_ps(-2.67681349e-2f));
  r = _mm512_fmadd_ps(r, s, _mm512_set1_ps(1.12819925e-1f));
  r = _mm512_fmadd_ps(r, s, _mm512_set1_ps(-3.76125336e-1f));
  r = _mm512_fmadd_ps(r, s, _mm512_set1_ps(1.28379166e-1f));
  const __m512 small = _mm512_fmadd_ps(r, a, a);
  __m512 q = _mm512_fmadd_ps(_mm512_set1_ps(-1.72853470e-5f), t, _mm512_set1_ps(3.83197126e-4f));
  const __m512 u = _mm512_fmadd_ps(_mm512_set1_ps(-3.88396438e-3f), t, _mm512_set1_ps(2.42546219e-2f));
  q = _mm512_fmadd_ps(q, s, u);
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(-1.06777877e-1f));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(-6.34846687e-1f));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(-1.28717512e-1f));
  q = _mm512_fmadd_ps(q, t, _mm512_sub_ps(_mm512_setzero_ps(), t));
  __m512 large = _mm512_sub_ps(_mm512_set1_ps(1.f), exp_ps(q));
  // copysign(large, a); |a| >= 4 gives exactly 1 (q < -17)
  large = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(large),
      _mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(static_cast<int>(0x80000000u)))));
  return _mm512_mask_mov_ps(small, _mm512_cmp_ps_mask(t, _mm512_set1_ps(0.927734375f), _CMP_GT_OQ), large);
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
