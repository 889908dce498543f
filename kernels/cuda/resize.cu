#include "cuda/common.cuh"
#include "cuda/resize.cuh"

namespace vx::cuda {
namespace {

struct Tap {
  int64_t i0, i1;
  float w1;
};

__device__ double source_coord(const kern::ResizeParams& p, int axis, int64_t o) {
  const int64_t in = p.in[axis], out = p.out[axis];
  if (p.mode == kern::ResizeMode::nearest) {
    if (out == in) return static_cast<double>(o);
    if (out == 2 * in) return static_cast<double>(o / 2);
    const float r = static_cast<float>(p.ratio[axis]);
    const double f = static_cast<double>(floorf(__fmul_rn(static_cast<float>(o), r)));
    return fmin(static_cast<double>(in - 1), f);
  }
  if (p.align_corners) return out > 1 ? __dmul_rn(static_cast<double>(o), static_cast<double>(in - 1)) / (out - 1) : 0.0;
  return fmax(0.0, __dsub_rn(__dmul_rn(o + 0.5, p.ratio[axis]), 0.5));
}

__device__ Tap tap(const kern::ResizeParams& p, int axis, int64_t o) {
  const double s = source_coord(p, axis, o);
  Tap t;
  t.i0 = min(static_cast<int64_t>(s), p.in[axis] - 1);
  t.i1 = min(t.i0 + 1, p.in[axis] - 1);
  t.w1 = p.mode == kern::ResizeMode::nearest ? 0.f : static_cast<float>(s - t.i0);
  return t;
}

__global__ void resize_kernel(kern::ResizeParams p, int64_t count, const float* src, float* dst) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  VX_CUDA_LOOP(t, count) {
    const int64_t nc = t / out_sp, r = t % out_sp;
    const int64_t x = r % p.out[2], y = (r / p.out[2]) % p.out[1], z = r / (p.out[2] * p.out[1]);
    const float* in = src + nc * in_sp;
    const Tap tz = tap(p, 0, z), ty = tap(p, 1, y), tx = tap(p, 2, x);
    auto at = [&](int64_t a, int64_t b, int64_t c) { return in[(a * p.in[1] + b) * p.in[2] + c]; };
    auto row = [&](int64_t a, int64_t b) { return (1.f - tx.w1) * at(a, b, tx.i0) + tx.w1 * at(a, b, tx.i1); };
    auto plane = [&](int64_t a) { return (1.f - ty.w1) * row(a, ty.i0) + ty.w1 * row(a, ty.i1); };
    dst[t] = (1.f - tz.w1) * plane(tz.i0) + tz.w1 * plane(tz.i1);
  }
}

}  // namespace

void resize_f32__cuda_direct(const kern::ResizeParams& p, const float* src, float* dst) {
  const int64_t count = p.n * p.c * p.out[0] * p.out[1] * p.out[2];
  if (count <= 0) return;
  resize_kernel<<<blocks(count), kThreads, 0, current()->stream>>>(p, count, src, dst);
  launched("resize");
}

}  // namespace vx::cuda
