#include <cmath>

#include "ref/ref_kernels.h"

namespace vx::kern::ref {

void unary_f32__scalar_ref(Unary op, float alpha, int64_t count, const float* src, float* dst) {
  for (int64_t i = 0; i < count; ++i) {
    const float v = src[i];
    switch (op) {
      case Unary::identity: dst[i] = v; break;
      case Unary::relu: dst[i] = v > 0.f ? v : 0.f; break;
      case Unary::leaky_relu: dst[i] = v >= 0.f ? v : alpha * v; break;
      case Unary::sigmoid: dst[i] = 1.f / (1.f + std::exp(-v)); break;
      case Unary::tanh: dst[i] = std::tanh(v); break;
    }
  }
}

static float apply(Binary op, float a, float b) {
  switch (op) {
    case Binary::add: return a + b;
    case Binary::sub: return a - b;
    case Binary::mul: return a * b;
    case Binary::div: return a / b;
  }
  return 0.f;
}

void binary_f32__scalar_ref(Binary op, const BroadcastParams& p, const float* a, const float* b, float* dst) {
  int64_t i = 0;
  for (int64_t d0 = 0; d0 < p.out[0]; ++d0)
    for (int64_t d1 = 0; d1 < p.out[1]; ++d1)
      for (int64_t d2 = 0; d2 < p.out[2]; ++d2)
        for (int64_t d3 = 0; d3 < p.out[3]; ++d3)
          for (int64_t d4 = 0; d4 < p.out[4]; ++d4) {
            const int64_t ia = d0 * p.a_stride[0] + d1 * p.a_stride[1] + d2 * p.a_stride[2] + d3 * p.a_stride[3] +
                               d4 * p.a_stride[4];
            const int64_t ib = d0 * p.b_stride[0] + d1 * p.b_stride[1] + d2 * p.b_stride[2] + d3 * p.b_stride[3] +
                               d4 * p.b_stride[4];
            dst[i++] = apply(op, a[ia], b[ib]);
          }
}

}  // namespace vx::kern::ref
