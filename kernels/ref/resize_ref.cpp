#include <algorithm>
#include <cmath>

#include "ref/ref_kernels.h"

namespace vx::kern::ref {

namespace {
// Source position of output index o along one axis (see ResizeParams).
double source_coord(const ResizeParams& p, int axis, int64_t o) {
  const int64_t in = p.in[axis], out = p.out[axis];
  // Nearest rounds in float, as PyTorch does (upsample_nearest: floorf(o * float(scale))), so
  // borderline indices agree with it exactly; the exact factors 1 and 2 are special there too.
  if (p.mode == ResizeMode::nearest) {
    if (out == in) return static_cast<double>(o);
    if (out == 2 * in) return static_cast<double>(o / 2);
    const float r = static_cast<float>(p.ratio[axis]);
    return std::min(static_cast<double>(in - 1), static_cast<double>(std::floor(static_cast<float>(o) * r)));
  }
  if (p.align_corners) return out > 1 ? static_cast<double>(o) * (in - 1) / (out - 1) : 0.0;
  return std::max(0.0, (o + 0.5) * p.ratio[axis] - 0.5);
}

struct Tap {
  int64_t i0, i1;
  float w1;  // weight of i1; i0 gets 1 - w1
};

Tap tap(const ResizeParams& p, int axis, int64_t o) {
  const double s = source_coord(p, axis, o);
  Tap t;
  t.i0 = std::min(static_cast<int64_t>(s), p.in[axis] - 1);
  t.i1 = std::min(t.i0 + 1, p.in[axis] - 1);
  t.w1 = p.mode == ResizeMode::nearest ? 0.f : static_cast<float>(s - t.i0);
  return t;
}
}  // namespace

void resize_f32__scalar_ref(const ResizeParams& p, const float* src, float* dst) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < p.n * p.c; ++nc) {
    const float* in = src + nc * in_sp;
    float* out = dst + nc * out_sp;
    for (int64_t z = 0; z < p.out[0]; ++z) {
      const Tap tz = tap(p, 0, z);
      for (int64_t y = 0; y < p.out[1]; ++y) {
        const Tap ty = tap(p, 1, y);
        for (int64_t x = 0; x < p.out[2]; ++x) {
          const Tap tx = tap(p, 2, x);
          auto at = [&](int64_t a, int64_t b, int64_t c) { return in[(a * p.in[1] + b) * p.in[2] + c]; };
          // Interpolate along x, then y, then z (as PyTorch's separable formula).
          auto row = [&](int64_t a, int64_t b) { return (1.f - tx.w1) * at(a, b, tx.i0) + tx.w1 * at(a, b, tx.i1); };
          auto plane = [&](int64_t a) { return (1.f - ty.w1) * row(a, ty.i0) + ty.w1 * row(a, ty.i1); };
          out[(z * p.out[1] + y) * p.out[2] + x] = (1.f - tz.w1) * plane(tz.i0) + tz.w1 * plane(tz.i1);
        }
      }
    }
  }
}

}  // namespace vx::kern::ref
