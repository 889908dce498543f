// AVX-512 elementwise activations and math (params.h Activation), 16 lanes at a time, held
// to a few ulp of the reference (kernels/ref/activation_ref.cpp; tests/kernels). A general
// Pow exponent runs std::pow per lane. Parallel loops split independent outputs only.
#include <cmath>

#include "cpu/cpu_kernels.h"
#include "cpu/vec_math_avx512.h"

namespace vx::kern::cpu {

using namespace avx512;

namespace {

constexpr int64_t kParallelMin = 1 << 15;  // below this, threads cost more than they save

// expm1(x) = (u - 1) x / log(u) with u = exp(x) (Kahan's trick: u - 1 is exact near 0, and the
// ratio cancels exp's rounding); x when u rounds to 1, -1 below -17 (where expm1 rounds to -1).
inline __m512 expm1_ps(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.f);
  const __m512 u = exp_ps(x);
  const __m512 um1 = _mm512_sub_ps(u, one);
  __m512 r = _mm512_div_ps(_mm512_mul_ps(um1, x), log_ps(u));
  r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(u, one, _CMP_EQ_OQ), x);
  r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(x, _mm512_set1_ps(-17.f), _CMP_LT_OQ), _mm512_set1_ps(-1.f));
  // Above ln(2): u - 1 is not the cancellation case any more and u is exact enough.
  return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(x, _mm512_set1_ps(0.6931f), _CMP_GT_OQ), um1);
}

// log1p(e) = log(u) e / (u - 1) with u = 1 + e (Goldberg's trick); e when u rounds to 1.
inline __m512 log1p_ps(__m512 e) {
  const __m512 one = _mm512_set1_ps(1.f);
  const __m512 u = _mm512_add_ps(one, e);
  const __m512 um1 = _mm512_sub_ps(u, one);
  const __m512 r = _mm512_div_ps(_mm512_mul_ps(log_ps(u), e), um1);
  return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(u, one, _CMP_EQ_OQ), e);
}

inline __m512 clamp01(__m512 v) {
  return _mm512_min_ps(_mm512_set1_ps(1.f), _mm512_max_ps(_mm512_setzero_ps(), v));
}

inline __m512 activation_vec(const ActivationParams& p, __m512 x) {
  const __m512 zero = _mm512_setzero_ps();
  const __m512 a = _mm512_set1_ps(p.a), b = _mm512_set1_ps(p.b);
  const __mmask16 pos = _mm512_cmp_ps_mask(x, zero, _CMP_GT_OQ);
  switch (p.op) {
    case Activation::elu: return _mm512_mask_mov_ps(_mm512_mul_ps(a, expm1_ps(x)), pos, x);
    case Activation::selu: return _mm512_mul_ps(b, _mm512_mask_mov_ps(_mm512_mul_ps(a, expm1_ps(x)), pos, x));
    // mul then add (no FMA), as the reference rounds
    case Activation::hard_sigmoid: return clamp01(_mm512_add_ps(_mm512_mul_ps(a, x), b));
    case Activation::hard_swish: return _mm512_mul_ps(x, clamp01(_mm512_add_ps(_mm512_mul_ps(a, x), b)));
    case Activation::softplus:
      return _mm512_mask_mov_ps(log1p_ps(exp_ps(x)), _mm512_cmp_ps_mask(x, _mm512_set1_ps(20.f), _CMP_GT_OQ), x);
    case Activation::erf: return erf_ps(x);
    case Activation::gelu: {
      const __m512 e = erf_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752f)));
      return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1.f), e));
    }
    // bound first: max/min return their second operand for NaN, so NaN stays NaN (as std::)
    case Activation::clip: return _mm512_min_ps(b, _mm512_max_ps(a, x));
    case Activation::exp: return exp_ps(x);
    case Activation::log: return log_ps(x);
    case Activation::sqrt: return _mm512_sqrt_ps(x);
    case Activation::neg: return _mm512_sub_ps(zero, x);
    case Activation::abs: return _mm512_abs_ps(x);
    case Activation::pow:
      if (p.a == 2.f) return _mm512_mul_ps(x, x);
      if (p.a == 0.5f) return _mm512_sqrt_ps(x);
      return x;  // p.a == 1 (the general case never comes here)
  }
  return x;
}

}  // namespace

void activation_f32__avx512_u16(const ActivationParams& p, int64_t count, const float* src, float* dst) {
  if (p.op == Activation::pow && p.a != 2.f && p.a != 0.5f && p.a != 1.f) {
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
    for (int64_t i = 0; i < count; ++i) dst[i] = std::pow(src[i], p.a);
    return;
  }
  const int64_t blocks = (count + 15) / 16;
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const __mmask16 m = tail_mask(count - blk * 16);
    const __m512 v = _mm512_maskz_loadu_ps(m, src + blk * 16);
    // NaN in, NaN out (exp_ps clamps its input, which would turn NaN into a number)
    const __m512 y = _mm512_mask_mov_ps(activation_vec(p, v), _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
    _mm512_mask_storeu_ps(dst + blk * 16, m, y);
  }
}

}  // namespace vx::kern::cpu
