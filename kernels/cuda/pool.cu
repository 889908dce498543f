#include "cuda/common.cuh"
#include "cuda/pool.cuh"
#include "pool_window.h"

namespace vx::cuda {
namespace {

// One thread per output voxel; the window walk is the reference's (kernels/pool_window.h).
__global__ void pool_kernel(kern::PoolParams p, int64_t count, const float* src, float* dst) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  VX_CUDA_LOOP(t, count) {
    const int64_t nc = t / out_sp, r = t % out_sp;
    const int64_t x = r % p.out[2], y = (r / p.out[2]) % p.out[1], z = r / (p.out[2] * p.out[1]);
    const float* in = src + nc * in_sp;
    float mx = -INFINITY, sum = 0.f;
    int64_t inside = 0;
    const int64_t padded = kern::walk_pool_window(p, z, y, x, [&](int64_t i) {
      mx = in[i] > mx ? in[i] : mx;
      sum += in[i];
      ++inside;
    });
    dst[t] = p.kind == kern::PoolKind::max ? mx : sum / kern::pool_divisor(p, inside, padded);
  }
}

__global__ void adaptive_kernel(kern::AdaptivePoolParams p, int64_t count, const float* src, float* dst) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  VX_CUDA_LOOP(t, count) {
    const int64_t nc = t / out_sp, r = t % out_sp;
    const int64_t x = r % p.out[2], y = (r / p.out[2]) % p.out[1], z = r / (p.out[2] * p.out[1]);
    const kern::AdaptiveWindow w = kern::adaptive_window(p, z, y, x);
    const float* in = src + nc * in_sp;
    float mx = -INFINITY, sum = 0.f;
    for (int64_t iz = w.begin[0]; iz < w.end[0]; ++iz)
      for (int64_t iy = w.begin[1]; iy < w.end[1]; ++iy)
        for (int64_t ix = w.begin[2]; ix < w.end[2]; ++ix) {
          const float v = in[(iz * p.in[1] + iy) * p.in[2] + ix];
          mx = v > mx ? v : mx;
          sum += v;
        }
    dst[t] = p.kind == kern::PoolKind::max ? mx : sum / static_cast<float>(w.size());
  }
}

}  // namespace

void pool_f32__cuda_direct(const kern::PoolParams& p, const float* src, float* dst) {
  const int64_t count = p.n * p.c * p.out[0] * p.out[1] * p.out[2];
  if (count <= 0) return;
  pool_kernel<<<blocks(count), kThreads, 0, current()->stream>>>(p, count, src, dst);
  launched("pool");
}

void adaptive_pool_f32__cuda_direct(const kern::AdaptivePoolParams& p, const float* src, float* dst) {
  const int64_t count = p.n * p.c * p.out[0] * p.out[1] * p.out[2];
  if (count <= 0) return;
  adaptive_kernel<<<blocks(count), kThreads, 0, current()->stream>>>(p, count, src, dst);
  launched("adaptive_pool");
}

}  // namespace vx::cuda
