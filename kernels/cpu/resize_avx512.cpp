// AVX-512 nearest / (tri)linear resize. Source taps per axis are computed once, in double
// exactly as the reference does; the x taps are gathered 16 at a time and interpolated
// along x, then y, then z with the reference's operation order (mul, mul, add).
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/cpu_kernels.h"
#include "cpu/vec_math_avx512.h"

namespace vx::kern::cpu {

using namespace avx512;

namespace {

struct Taps {
  std::vector<int32_t> i0, i1;
  std::vector<float> w1;
};

Taps taps(const ResizeParams& p, int axis) {
  const int64_t in = p.in[axis], out = p.out[axis];
  Taps t;
  t.i0.resize(out), t.i1.resize(out), t.w1.resize(out);
  for (int64_t o = 0; o < out; ++o) {
    double s;
    if (p.mode == ResizeMode::nearest) s = std::min(static_cast<double>(in - 1), std::floor(static_cast<double>(o) * p.ratio[axis]));
    else if (p.align_corners) s = out > 1 ? static_cast<double>(o) * (in - 1) / (out - 1) : 0.0;
    else s = std::max(0.0, (o + 0.5) * p.ratio[axis] - 0.5);
    const int64_t i0 = std::min(static_cast<int64_t>(s), in - 1);
    t.i0[o] = static_cast<int32_t>(i0);
    t.i1[o] = static_cast<int32_t>(std::min(i0 + 1, in - 1));
    t.w1[o] = p.mode == ResizeMode::nearest ? 0.f : static_cast<float>(s - i0);
  }
  return t;
}

inline __m512 lerp(__m512 a, __m512 b, __m512 w) {
  return _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_set1_ps(1.f), w), a), _mm512_mul_ps(w, b));
}

}  // namespace

void resize_f32__avx512_u16(const ResizeParams& p, const float* src, float* dst) {
  const Taps tz = taps(p, 0), ty = taps(p, 1), tx = taps(p, 2);
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  const bool nearest = p.mode == ResizeMode::nearest;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t nc = 0; nc < p.n * p.c; ++nc)
    for (int64_t z = 0; z < p.out[0]; ++z) {
      const float* in = src + nc * in_sp;
      const __m512 wz = _mm512_set1_ps(tz.w1[z]);
      for (int64_t y = 0; y < p.out[1]; ++y) {
        const __m512 wy = _mm512_set1_ps(ty.w1[y]);
        float* out = dst + nc * out_sp + (z * p.out[1] + y) * p.out[2];
        const float* r00 = in + (tz.i0[z] * p.in[1] + ty.i0[y]) * p.in[2];
        const float* r01 = in + (tz.i0[z] * p.in[1] + ty.i1[y]) * p.in[2];
        const float* r10 = in + (tz.i1[z] * p.in[1] + ty.i0[y]) * p.in[2];
        const float* r11 = in + (tz.i1[z] * p.in[1] + ty.i1[y]) * p.in[2];
        for (int64_t x = 0; x < p.out[2]; x += 16) {
          const __mmask16 m = tail_mask(p.out[2] - x);
          const __m512i x0 = _mm512_maskz_loadu_epi32(m, tx.i0.data() + x);
          if (nearest) {
            _mm512_mask_storeu_ps(out + x, m, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, x0, r00, 4));
            continue;
          }
          const __m512i x1 = _mm512_maskz_loadu_epi32(m, tx.i1.data() + x);
          const __m512 wx = _mm512_maskz_loadu_ps(m, tx.w1.data() + x);
          auto row = [&](const float* r) {
            const __m512 a = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, x0, r, 4);
            const __m512 b = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, x1, r, 4);
            return lerp(a, b, wx);
          };
          const __m512 v = lerp(lerp(row(r00), row(r01), wy), lerp(row(r10), row(r11), wy), wz);
          _mm512_mask_storeu_ps(out + x, m, v);
        }
      }
    }
}

}  // namespace vx::kern::cpu
