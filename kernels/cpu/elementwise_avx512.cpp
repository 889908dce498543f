// AVX-512 elementwise kernels: unary activations, broadcast binary arithmetic, inference
// batch norm (channel_affine) and softmax over channels. Parallel loops split independent
// outputs only, so results do not depend on the thread count.
#include <algorithm>
#include <limits>

#include "cpu/cpu_kernels.h"
#include "cpu/vec_math_avx512.h"

namespace vx::kern::cpu {

using namespace avx512;

namespace {

constexpr int64_t kParallelMin = 1 << 15;  // below this, threads cost more than they save

inline __m512 unary_vec(Unary op, __m512 v, __m512 alpha) {
  const __m512 one = _mm512_set1_ps(1.f), zero = _mm512_setzero_ps();
  switch (op) {
    case Unary::identity: return v;
    case Unary::relu: return _mm512_max_ps(v, zero);
    case Unary::leaky_relu: {
      const __mmask16 neg = _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);
      return _mm512_mask_mul_ps(v, neg, v, alpha);
    }
    case Unary::sigmoid: return _mm512_div_ps(one, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(zero, v))));
    case Unary::tanh: {  // 1 - 2 / (exp(2x) + 1): absolute error ~1e-7 near 0
      const __m512 e = exp_ps(_mm512_add_ps(v, v));
      return _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.f), _mm512_add_ps(e, one)));
    }
  }
  return v;
}

inline __m512 binary_vec(Binary op, __m512 a, __m512 b) {
  switch (op) {
    case Binary::add: return _mm512_add_ps(a, b);
    case Binary::sub: return _mm512_sub_ps(a, b);
    case Binary::mul: return _mm512_mul_ps(a, b);
    case Binary::div: return _mm512_div_ps(a, b);
  }
  return a;
}

}  // namespace

void unary_f32__avx512_u16(Unary op, float alpha, int64_t count, const float* src, float* dst) {
  const __m512 va = _mm512_set1_ps(alpha);
  const int64_t blocks = (count + 15) / 16;
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
  for (int64_t b = 0; b < blocks; ++b) {
    const __mmask16 m = tail_mask(count - b * 16);
    const __m512 v = _mm512_maskz_loadu_ps(m, src + b * 16);
    _mm512_mask_storeu_ps(dst + b * 16, m, unary_vec(op, v, va));
  }
}

// Axes are merged where both operands stay linear across them, so a per-channel or an
// attention-gate broadcast becomes a few long rows with strides 0 or 1.
void binary_f32__avx512_u16(Binary op, const BroadcastParams& p, const float* a, const float* b, float* dst) {
  int64_t out[5], sa[5], sb[5];
  int r = 0;
  for (int i = 0; i < 5; ++i) {
    if (p.out[i] == 1) continue;
    if (r > 0 && sa[r - 1] == p.a_stride[i] * p.out[i] && sb[r - 1] == p.b_stride[i] * p.out[i]) {
      out[r - 1] *= p.out[i];
      sa[r - 1] = p.a_stride[i];
      sb[r - 1] = p.b_stride[i];
      continue;
    }
    out[r] = p.out[i], sa[r] = p.a_stride[i], sb[r] = p.b_stride[i];
    ++r;
  }
  if (r == 0) out[0] = 1, sa[0] = sb[0] = 0, r = 1;
  const int64_t inner = out[r - 1], ia = sa[r - 1], ib = sb[r - 1];
  int64_t rows = 1;
  for (int i = 0; i < r - 1; ++i) rows *= out[i];
  const bool vec = (ia == 0 || ia == 1) && (ib == 0 || ib == 1);
#pragma omp parallel for schedule(static) if (rows * inner >= kParallelMin && rows > 1)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t oa = 0, ob = 0, rem = row;
    for (int i = r - 2; i >= 0; --i) {
      const int64_t idx = rem % out[i];
      rem /= out[i];
      oa += idx * sa[i];
      ob += idx * sb[i];
    }
    const float* pa = a + oa;
    const float* pb = b + ob;
    float* d = dst + row * inner;
    if (!vec) {
      for (int64_t x = 0; x < inner; ++x) {
        const __m512 v = binary_vec(op, _mm512_set1_ps(pa[x * ia]), _mm512_set1_ps(pb[x * ib]));
        d[x] = _mm512_cvtss_f32(v);
      }
      continue;
    }
    for (int64_t x = 0; x < inner; x += 16) {
      const __mmask16 m = tail_mask(inner - x);
      const __m512 va = ia ? _mm512_maskz_loadu_ps(m, pa + x) : _mm512_set1_ps(pa[0]);
      const __m512 vb = ib ? _mm512_maskz_loadu_ps(m, pb + x) : _mm512_set1_ps(pb[0]);
      _mm512_mask_storeu_ps(d + x, m, binary_vec(op, va, vb));
    }
  }
}

void channel_affine_f32__avx512_u16(int64_t n, int64_t c, int64_t inner, const float* scale, const float* shift,
                                    const float* src, float* dst) {
#pragma omp parallel for schedule(static) if (n * c * inner >= kParallelMin)
  for (int64_t row = 0; row < n * c; ++row) {
    const int64_t ch = row % c;
    // mul then add (no FMA) to round exactly as the reference does.
    const __m512 s = _mm512_set1_ps(scale[ch]), t = _mm512_set1_ps(shift[ch]);
    const float* in = src + row * inner;
    float* out = dst + row * inner;
    for (int64_t i = 0; i < inner; i += 16) {
      const __mmask16 m = tail_mask(inner - i);
      _mm512_mask_storeu_ps(out + i, m, _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, in + i), s), t));
    }
  }
}

// Vectorised across `inner` (16 positions at once), looping over channels, as the
// reference: max, exp(x - max) and its sum, then divide.
// On the last axis (inner == 1: attention scores, classifier outputs) it runs along each
// row instead, 16 channels at once (issue 18).
void softmax_f32__avx512_u16(int64_t outer, int64_t c, int64_t inner, const float* src, float* dst) {
  if (inner == 1 && c >= 16) {
#pragma omp parallel for schedule(static) if (outer * c >= kParallelMin)
    for (int64_t o = 0; o < outer; ++o) {
      const float* s = src + o * c;
      float* d = dst + o * c;
      __m512 mx = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
      for (int64_t k = 0; k < c; k += 16) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(mx, tail_mask(c - k), s + k));
      const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
      __m512 sum = _mm512_setzero_ps();
      for (int64_t k = 0; k < c; k += 16) {
        const __mmask16 mk = tail_mask(c - k);
        const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(mk, s + k), m));
        sum = _mm512_mask_add_ps(sum, mk, sum, e);
        _mm512_mask_storeu_ps(d + k, mk, e);
      }
      const __m512 total = _mm512_set1_ps(_mm512_reduce_add_ps(sum));
      for (int64_t k = 0; k < c; k += 16) {
        const __mmask16 mk = tail_mask(c - k);
        _mm512_mask_storeu_ps(d + k, mk, _mm512_div_ps(_mm512_maskz_loadu_ps(mk, d + k), total));
      }
    }
    return;
  }
  const int64_t blocks = (inner + 15) / 16;
#pragma omp parallel for collapse(2) schedule(static) if (outer * c * inner >= kParallelMin)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      const __mmask16 m = tail_mask(inner - blk * 16);
      const float* s = src + o * c * inner + blk * 16;
      float* d = dst + o * c * inner + blk * 16;
      __m512 mx = _mm512_maskz_loadu_ps(m, s);
      for (int64_t k = 1; k < c; ++k) mx = _mm512_max_ps(mx, _mm512_maskz_loadu_ps(m, s + k * inner));
      __m512 sum = _mm512_setzero_ps();
      for (int64_t k = 0; k < c; ++k) {
        const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + k * inner), mx));
        sum = _mm512_add_ps(sum, e);
        _mm512_mask_storeu_ps(d + k * inner, m, e);
      }
      for (int64_t k = 0; k < c; ++k)
        _mm512_mask_storeu_ps(d + k * inner, m, _mm512_div_ps(_mm512_maskz_loadu_ps(m, d + k * inner), sum));
    }
}

}  // namespace vx::kern::cpu
