#include <limits>

#include "ref/ref_kernels.h"

namespace vx::kern::ref {

// Max pooling ignores padded positions; average pooling divides by the window's
// in-bounds size, or by the full window when count_include_pad (PyTorch/ONNX semantics;
// the window never extends past input + padding).
void pool(const PoolParams& p, const float* src, float* dst) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < p.n * p.c; ++nc) {
    const float* in = src + nc * in_sp;
    float* out = dst + nc * out_sp;
    for (int64_t z = 0; z < p.out[0]; ++z)
      for (int64_t y = 0; y < p.out[1]; ++y)
        for (int64_t x = 0; x < p.out[2]; ++x) {
          float mx = -std::numeric_limits<float>::infinity(), sum = 0.f;
          int64_t inside = 0, padded = 0;
          for (int64_t kz = 0; kz < p.k[0]; ++kz)
            for (int64_t ky = 0; ky < p.k[1]; ++ky)
              for (int64_t kx = 0; kx < p.k[2]; ++kx) {
                const int64_t iz = z * p.stride[0] - p.pad[0] + kz * p.dil[0];
                const int64_t iy = y * p.stride[1] - p.pad[1] + ky * p.dil[1];
                const int64_t ix = x * p.stride[2] - p.pad[2] + kx * p.dil[2];
                if (iz < p.in[0] + p.pad[0] && iy < p.in[1] + p.pad[1] && ix < p.in[2] + p.pad[2]) ++padded;
                if (iz < 0 || iy < 0 || ix < 0 || iz >= p.in[0] || iy >= p.in[1] || ix >= p.in[2]) continue;
                const float v = in[(iz * p.in[1] + iy) * p.in[2] + ix];
                mx = v > mx ? v : mx;
                sum += v;
                ++inside;
              }
          float r;
          if (p.kind == PoolKind::max) r = mx;
          else r = sum / static_cast<float>(p.count_include_pad ? padded : (inside ? inside : 1));
          out[(z * p.out[1] + y) * p.out[2] + x] = r;
        }
  }
}

void adaptive_pool(const AdaptivePoolParams& p, const float* src, float* dst) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  auto start = [](int64_t i, int64_t in, int64_t out) { return (i * in) / out; };
  auto end = [](int64_t i, int64_t in, int64_t out) { return ((i + 1) * in + out - 1) / out; };
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < p.n * p.c; ++nc) {
    const float* in = src + nc * in_sp;
    float* out = dst + nc * out_sp;
    for (int64_t z = 0; z < p.out[0]; ++z)
      for (int64_t y = 0; y < p.out[1]; ++y)
        for (int64_t x = 0; x < p.out[2]; ++x) {
          const int64_t z0 = start(z, p.in[0], p.out[0]), z1 = end(z, p.in[0], p.out[0]);
          const int64_t y0 = start(y, p.in[1], p.out[1]), y1 = end(y, p.in[1], p.out[1]);
          const int64_t x0 = start(x, p.in[2], p.out[2]), x1 = end(x, p.in[2], p.out[2]);
          float mx = -std::numeric_limits<float>::infinity(), sum = 0.f;
          for (int64_t iz = z0; iz < z1; ++iz)
            for (int64_t iy = y0; iy < y1; ++iy)
              for (int64_t ix = x0; ix < x1; ++ix) {
                const float v = in[(iz * p.in[1] + iy) * p.in[2] + ix];
                mx = v > mx ? v : mx;
                sum += v;
              }
          out[(z * p.out[1] + y) * p.out[2] + x] =
              p.kind == PoolKind::max ? mx : sum / static_cast<float>((z1 - z0) * (y1 - y0) * (x1 - x0));
        }
  }
}

}  // namespace vx::kern::ref
