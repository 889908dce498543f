#include "ref/ref_kernels.h"

namespace vx::kern::ref {

int64_t pad_source_index(int64_t o, int64_t begin, int64_t in, PadMode mode) {
  int64_t i = o - begin;
  if (i >= 0 && i < in) return i;
  switch (mode) {
    case PadMode::constant: return -1;
    case PadMode::edge: return i < 0 ? 0 : in - 1;
    case PadMode::reflect: {
      if (in == 1) return 0;
      const int64_t period = 2 * (in - 1);
      i %= period;
      if (i < 0) i += period;
      return i < in ? i : period - i;
    }
  }
  return -1;
}

void pad_f32__scalar_ref(const PadParams& p, const float* src, float* dst) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  for (int64_t nc = 0; nc < p.nc; ++nc)
    for (int64_t z = 0; z < p.out[0]; ++z) {
      const int64_t iz = pad_source_index(z, p.begin[0], p.in[0], p.mode);
      for (int64_t y = 0; y < p.out[1]; ++y) {
        const int64_t iy = pad_source_index(y, p.begin[1], p.in[1], p.mode);
        for (int64_t x = 0; x < p.out[2]; ++x) {
          const int64_t ix = pad_source_index(x, p.begin[2], p.in[2], p.mode);
          const bool inside = iz >= 0 && iy >= 0 && ix >= 0;
          dst[nc * out_sp + (z * p.out[1] + y) * p.out[2] + x] =
              inside ? src[nc * in_sp + (iz * p.in[1] + iy) * p.in[2] + ix] : p.value;
        }
      }
    }
}

}  // namespace vx::kern::ref
