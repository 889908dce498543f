#include "ref/ref_kernels.h"

namespace vx::kern::ref {

// dst[n, o, z, y, x] = bias[o] + sum over (c in o's group, kz, ky, kx) of
//   src[n, c, z*s - p + kz*d, ...] * wei[o, c - group_start, kz, ky, kx]
void conv_f32__scalar_direct(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst) {
  const int64_t icg = p.ic / p.groups, ocg = p.oc / p.groups;
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  const int64_t k_sp = p.k[0] * p.k[1] * p.k[2];
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t o = 0; o < p.oc; ++o) {
      const int64_t g = o / ocg;
      float* out = dst + (n * p.oc + o) * out_sp;
      for (int64_t z = 0; z < p.out[0]; ++z)
        for (int64_t y = 0; y < p.out[1]; ++y)
          for (int64_t x = 0; x < p.out[2]; ++x) {
            float acc = bias ? bias[o] : 0.f;
            for (int64_t c = 0; c < icg; ++c) {
              const float* in = src + (n * p.ic + g * icg + c) * in_sp;
              const float* w = wei + (o * icg + c) * k_sp;
              for (int64_t kz = 0; kz < p.k[0]; ++kz) {
                const int64_t iz = z * p.stride[0] - p.pad[0] + kz * p.dil[0];
                if (iz < 0 || iz >= p.in[0]) continue;
                for (int64_t ky = 0; ky < p.k[1]; ++ky) {
                  const int64_t iy = y * p.stride[1] - p.pad[1] + ky * p.dil[1];
                  if (iy < 0 || iy >= p.in[1]) continue;
                  for (int64_t kx = 0; kx < p.k[2]; ++kx) {
                    const int64_t ix = x * p.stride[2] - p.pad[2] + kx * p.dil[2];
                    if (ix < 0 || ix >= p.in[2]) continue;
                    acc += in[(iz * p.in[1] + iy) * p.in[2] + ix] * w[(kz * p.k[1] + ky) * p.k[2] + kx];
                  }
                }
              }
            }
            out[(z * p.out[1] + y) * p.out[2] + x] = acc;
          }
    }
}

}  // namespace vx::kern::ref
