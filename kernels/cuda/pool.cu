#include "cuda/common.cuh"
#include "cuda/pool.cuh"

namespace vx::cuda {
namespace {

// One thread per output voxel; the window loop is the reference's, in its order.
__global__ void pool_kernel(kern::PoolParams p, int64_t count, const float* src, float* dst) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  VX_CUDA_LOOP(t, count) {
    const int64_t nc = t / out_sp, r = t % out_sp;
    const int64_t x = r % p.out[2], y = (r / p.out[2]) % p.out[1], z = r / (p.out[2] * p.out[1]);
    const float* in = src + nc * in_sp;
    float mx = -INFINITY, sum = 0.f;
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
    dst[t] = p.kind == kern::PoolKind::max
                 ? mx
                 : sum / static_cast<float>(p.count_include_pad ? padded : (inside ? inside : 1));
  }
}

__global__ void adaptive_kernel(kern::AdaptivePoolParams p, int64_t count, const float* src, float* dst) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  VX_CUDA_LOOP(t, count) {
    const int64_t nc = t / out_sp, r = t % out_sp;
    const int64_t x = r % p.out[2], y = (r / p.out[2]) % p.out[1], z = r / (p.out[2] * p.out[1]);
    const int64_t z0 = z * p.in[0] / p.out[0], z1 = ((z + 1) * p.in[0] + p.out[0] - 1) / p.out[0];
    const int64_t y0 = y * p.in[1] / p.out[1], y1 = ((y + 1) * p.in[1] + p.out[1] - 1) / p.out[1];
    const int64_t x0 = x * p.in[2] / p.out[2], x1 = ((x + 1) * p.in[2] + p.out[2] - 1) / p.out[2];
    const float* in = src + nc * in_sp;
    float mx = -INFINITY, sum = 0.f;
    for (int64_t iz = z0; iz < z1; ++iz)
      for (int64_t iy = y0; iy < y1; ++iy)
        for (int64_t ix = x0; ix < x1; ++ix) {
          const float v = in[(iz * p.in[1] + iy) * p.in[2] + ix];
          mx = v > mx ? v : mx;
          sum += v;
        }
    dst[t] = p.kind == kern::PoolKind::max ? mx : sum / static_cast<float>((z1 - z0) * (y1 - y0) * (x1 - x0));
  }
}

}  // namespace

void pool(const kern::PoolParams& p, const float* src, float* dst) {
  const int64_t count = p.n * p.c * p.out[0] * p.out[1] * p.out[2];
  if (count <= 0) return;
  pool_kernel<<<blocks(count), kThreads, 0, current()->stream>>>(p, count, src, dst);
  launched("pool");
}

void adaptive_pool(const kern::AdaptivePoolParams& p, const float* src, float* dst) {
  const int64_t count = p.n * p.c * p.out[0] * p.out[1] * p.out[2];
  if (count <= 0) return;
  adaptive_kernel<<<blocks(count), kThreads, 0, current()->stream>>>(p, count, src, dst);
  launched("adaptive_pool");
}

}  // namespace vx::cuda
