#include <cstring>

#include "ref/ref_kernels.h"

namespace vx::kern::ref {

// Each input voxel scatters src * wei[c, o - group_start, k] into
// dst[n, o, z*s - p + kz*d, ...]; bias is added once per output voxel.
void conv_transpose_f32__scalar_direct(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst) {
  const int64_t icg = p.ic / p.groups, ocg = p.oc / p.groups;
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  const int64_t k_sp = p.k[0] * p.k[1] * p.k[2];
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t o = 0; o < p.oc; ++o) {
      const int64_t g = o / ocg;
      float* out = dst + (n * p.oc + o) * out_sp;
      for (int64_t i = 0; i < out_sp; ++i) out[i] = bias ? bias[o] : 0.f;
      for (int64_t c = 0; c < icg; ++c) {
        const int64_t ci = g * icg + c;
        const float* in = src + (n * p.ic + ci) * in_sp;
        const float* w = wei + (ci * ocg + (o - g * ocg)) * k_sp;
        for (int64_t z = 0; z < p.in[0]; ++z)
          for (int64_t y = 0; y < p.in[1]; ++y)
            for (int64_t x = 0; x < p.in[2]; ++x) {
              const float v = in[(z * p.in[1] + y) * p.in[2] + x];
              for (int64_t kz = 0; kz < p.k[0]; ++kz) {
                const int64_t oz = z * p.stride[0] - p.pad[0] + kz * p.dil[0];
                if (oz < 0 || oz >= p.out[0]) continue;
                for (int64_t ky = 0; ky < p.k[1]; ++ky) {
                  const int64_t oy = y * p.stride[1] - p.pad[1] + ky * p.dil[1];
                  if (oy < 0 || oy >= p.out[1]) continue;
                  for (int64_t kx = 0; kx < p.k[2]; ++kx) {
                    const int64_t ox = x * p.stride[2] - p.pad[2] + kx * p.dil[2];
                    if (ox < 0 || ox >= p.out[2]) continue;
                    out[(oz * p.out[1] + oy) * p.out[2] + ox] += v * w[(kz * p.k[1] + ky) * p.k[2] + kx];
                  }
                }
              }
            }
      }
    }
}

}  // namespace vx::kern::ref
