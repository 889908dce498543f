// AVX-512 adaptive pooling (global pooling is the 1x1x1 case): each window is reduced row
// by row, 16 voxels at a time, into one vector accumulator, then horizontally. One thread
// per (n, c) plane, so the summation order never depends on the thread count.
#include <limits>

#include "cpu/cpu_kernels.h"
#include "cpu/vec_math_avx512.h"
#include "pool_window.h"

namespace vx::kern::cpu {

using namespace avx512;

void adaptive_pool_f32__avx512_u16(const AdaptivePoolParams& p, const float* src, float* dst) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  const bool is_max = p.kind == PoolKind::max;
  const __m512 lowest = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < p.n * p.c; ++nc) {
    const float* in = src + nc * in_sp;
    float* out = dst + nc * out_sp;
    for (int64_t z = 0; z < p.out[0]; ++z)
      for (int64_t y = 0; y < p.out[1]; ++y)
        for (int64_t x = 0; x < p.out[2]; ++x) {
          const AdaptiveWindow w = adaptive_window(p, z, y, x);
          const int64_t z0 = w.begin[0], z1 = w.end[0], y0 = w.begin[1], y1 = w.end[1], x0 = w.begin[2], x1 = w.end[2];
          __m512 acc = is_max ? lowest : _mm512_setzero_ps();
          for (int64_t iz = z0; iz < z1; ++iz)
            for (int64_t iy = y0; iy < y1; ++iy) {
              const float* row = in + (iz * p.in[1] + iy) * p.in[2];
              for (int64_t ix = x0; ix < x1; ix += 16) {
                const __mmask16 m = tail_mask(x1 - ix);
                if (is_max) acc = _mm512_mask_max_ps(acc, m, acc, _mm512_maskz_loadu_ps(m, row + ix));
                else acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, row + ix));
              }
            }
          const float count = static_cast<float>((z1 - z0) * (y1 - y0) * (x1 - x0));
          out[(z * p.out[1] + y) * p.out[2] + x] = is_max ? hmax_ps(acc) : hsum_ps(acc) / count;
        }
  }
}

}  // namespace vx::kern::cpu
