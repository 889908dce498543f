#include <limits>

#include "pool_window.h"
#include "ref/ref_kernels.h"

namespace vx::kern::ref {

// Max pooling ignores padded positions; average pooling divides by the window's
// in-bounds size, or by the full window when count_include_pad (PyTorch/ONNX semantics;
// the window never extends past input + padding).
void pool_f32__scalar_ref(const PoolParams& p, const float* src, float* dst) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < p.n * p.c; ++nc) {
    const float* in = src + nc * in_sp;
    float* out = dst + nc * out_sp;
    for (int64_t z = 0; z < p.out[0]; ++z)
      for (int64_t y = 0; y < p.out[1]; ++y)
        for (int64_t x = 0; x < p.out[2]; ++x) {
          float mx = -std::numeric_limits<float>::infinity(), sum = 0.f;
          int64_t inside = 0;
          const int64_t padded = walk_pool_window(p, z, y, x, [&](int64_t i) {
            mx = in[i] > mx ? in[i] : mx;
            sum += in[i];
            ++inside;
          });
          out[(z * p.out[1] + y) * p.out[2] + x] = p.kind == PoolKind::max ? mx : sum / pool_divisor(p, inside, padded);
        }
  }
}

void adaptive_pool_f32__scalar_ref(const AdaptivePoolParams& p, const float* src, float* dst) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < p.n * p.c; ++nc) {
    const float* in = src + nc * in_sp;
    float* out = dst + nc * out_sp;
    for (int64_t z = 0; z < p.out[0]; ++z)
      for (int64_t y = 0; y < p.out[1]; ++y)
        for (int64_t x = 0; x < p.out[2]; ++x) {
          const AdaptiveWindow w = adaptive_window(p, z, y, x);
          float mx = -std::numeric_limits<float>::infinity(), sum = 0.f;
          for (int64_t iz = w.begin[0]; iz < w.end[0]; ++iz)
            for (int64_t iy = w.begin[1]; iy < w.end[1]; ++iy)
              for (int64_t ix = w.begin[2]; ix < w.end[2]; ++ix) {
                const float v = in[(iz * p.in[1] + iy) * p.in[2] + ix];
                mx = v > mx ? v : mx;
                sum += v;
              }
          out[(z * p.out[1] + y) * p.out[2] + x] = p.kind == PoolKind::max ? mx : sum / static_cast<float>(w.size());
        }
  }
}

}  // namespace vx::kern::ref
