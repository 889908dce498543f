#include "cuda/common.cuh"
#include "cuda/pad.cuh"

namespace vx::cuda {
namespace {
__device__ int64_t source_index(int64_t o, int64_t begin, int64_t in, kern::PadMode mode) {
  int64_t i = o - begin;
  if (i >= 0 && i < in) return i;
  switch (mode) {
    case kern::PadMode::constant: return -1;
    case kern::PadMode::edge: return i < 0 ? 0 : in - 1;
    case kern::PadMode::reflect: {
      if (in == 1) return 0;
      const int64_t period = 2 * (in - 1);
      i %= period;
      if (i < 0) i += period;
      return i < in ? i : period - i;
    }
  }
  return -1;
}

__global__ void pad_kernel(kern::PadParams p, int64_t count, const float* src, float* dst) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2];
  VX_CUDA_LOOP(t, count) {
    const int64_t x = t % p.out[2], y = (t / p.out[2]) % p.out[1], z = (t / (p.out[2] * p.out[1])) % p.out[0];
    const int64_t nc = t / (p.out[0] * p.out[1] * p.out[2]);
    const int64_t iz = source_index(z, p.begin[0], p.in[0], p.mode);
    const int64_t iy = source_index(y, p.begin[1], p.in[1], p.mode);
    const int64_t ix = source_index(x, p.begin[2], p.in[2], p.mode);
    dst[t] = iz >= 0 && iy >= 0 && ix >= 0 ? src[nc * in_sp + (iz * p.in[1] + iy) * p.in[2] + ix] : p.value;
  }
}
}  // namespace

void pad_f32__cuda_direct(const kern::PadParams& p, const float* src, float* dst) {
  const int64_t count = p.nc * p.out[0] * p.out[1] * p.out[2];
  if (count <= 0) return;
  pad_kernel<<<blocks(count), kThreads, 0, current()->stream>>>(p, count, src, dst);
  launched("pad");
}

}  // namespace vx::cuda
