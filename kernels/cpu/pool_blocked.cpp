// Max and average pooling on the blocked16 layout: the reference kernel's window walk and
// arithmetic, done for 16 channels at once (the innermost axis), so results equal it bit
// for bit. Plain tensors go to the reference kernel.
#include <limits>

#include "cpu/cpu_kernels.h"
#include "pool_window.h"
#include "ref/ref_kernels.h"

namespace vx::kern::cpu {

namespace {

void pool_f32__scalar_blocked16(const PoolParams& p, const float* src, float* dst) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  const int64_t blocks = p.n * (p.c / 16);
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t nb = 0; nb < blocks; ++nb)
    for (int64_t z = 0; z < p.out[0]; ++z) {
      const float* in = src + nb * in_sp * 16;
      float* out = dst + nb * out_sp * 16;
      for (int64_t y = 0; y < p.out[1]; ++y)
        for (int64_t x = 0; x < p.out[2]; ++x) {
          float mx[16], sum[16];
          for (int j = 0; j < 16; ++j) mx[j] = -std::numeric_limits<float>::infinity(), sum[j] = 0.f;
          int64_t inside = 0;
          const int64_t padded = walk_pool_window(p, z, y, x, [&](int64_t i) {
            const float* v = in + i * 16;
            for (int j = 0; j < 16; ++j) {
              mx[j] = v[j] > mx[j] ? v[j] : mx[j];
              sum[j] += v[j];
            }
            ++inside;
          });
          float* o = out + ((z * p.out[1] + y) * p.out[2] + x) * 16;
          const float div = pool_divisor(p, inside, padded);
          for (int j = 0; j < 16; ++j) o[j] = p.kind == PoolKind::max ? mx[j] : sum[j] / div;
        }
    }
}

}  // namespace

void route_pool_cpu(const PoolParams& p, const float* src, float* dst) {
  if (p.layout == Layout::blocked16) return pool_f32__scalar_blocked16(p, src, dst);  // the op checked c % 16 == 0
  ref::pool_f32__scalar_ref(p, src, dst);
}

}  // namespace vx::kern::cpu
