// Scalar reference backward kernels (see backward_ref.h). Scatter loops run sequentially
// within one (n, c) plane and in parallel only across planes, so results never depend on
// the thread count.
#include "ref/backward_ref.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "pool_window.h"
#include "ref/ref_kernels.h"

namespace vx::kern::ref {

void linear_backward(int64_t m, int64_t k, int64_t n, const float* dy, const float* w, float* dx) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t t = 0; t < k; ++t) {
      float acc = 0.f;
      for (int64_t j = 0; j < n; ++j) acc += dy[i * n + j] * w[j * k + t];
      dx[i * k + t] = acc;
    }
}

void channel_affine_backward(int64_t n, int64_t c, int64_t inner, const float* scale, const float* dy, float* dx) {
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      const int64_t base = (b * c + ch) * inner;
      for (int64_t i = 0; i < inner; ++i) dx[base + i] = dy[base + i] * scale[ch];
    }
}

void unary_backward(Unary op, float alpha, int64_t count, const float* x, const float* y, const float* dy,
                    float* dx) {
  for (int64_t i = 0; i < count; ++i) {
    switch (op) {
      case Unary::identity: dx[i] = dy[i]; break;
      case Unary::relu: dx[i] = x[i] > 0.f ? dy[i] : 0.f; break;
      case Unary::leaky_relu: dx[i] = x[i] > 0.f ? dy[i] : dy[i] * alpha; break;
      case Unary::sigmoid: dx[i] = dy[i] * (1.f - y[i]) * y[i]; break;
      case Unary::tanh: dx[i] = dy[i] * (1.f - y[i] * y[i]); break;
    }
  }
}

namespace {
// Elements an operand with these broadcast strides spans.
int64_t operand_size(const BroadcastParams& p, const int64_t* stride) {
  int64_t last = 0;
  for (int i = 0; i < 5; ++i) last += (p.out[i] - 1) * stride[i];
  return last + 1;
}
}  // namespace

void binary_backward(Binary op, const BroadcastParams& p, const float* a, const float* b, const float* dy, float* da,
                     float* db) {
  if (da) std::fill(da, da + operand_size(p, p.a_stride), 0.f);
  if (db) std::fill(db, db + operand_size(p, p.b_stride), 0.f);
  int64_t i = 0;
  for (int64_t d0 = 0; d0 < p.out[0]; ++d0)
    for (int64_t d1 = 0; d1 < p.out[1]; ++d1)
      for (int64_t d2 = 0; d2 < p.out[2]; ++d2)
        for (int64_t d3 = 0; d3 < p.out[3]; ++d3)
          for (int64_t d4 = 0; d4 < p.out[4]; ++d4, ++i) {
            const int64_t ia = d0 * p.a_stride[0] + d1 * p.a_stride[1] + d2 * p.a_stride[2] + d3 * p.a_stride[3] +
                               d4 * p.a_stride[4];
            const int64_t ib = d0 * p.b_stride[0] + d1 * p.b_stride[1] + d2 * p.b_stride[2] + d3 * p.b_stride[3] +
                               d4 * p.b_stride[4];
            const float g = dy[i];
            switch (op) {
              case Binary::add:
                if (da) da[ia] += g;
                if (db) db[ib] += g;
                break;
              case Binary::sub:
                if (da) da[ia] += g;
                if (db) db[ib] -= g;
                break;
              case Binary::mul:
                if (da) da[ia] += g * b[ib];
                if (db) db[ib] += g * a[ia];
                break;
              case Binary::div:
                if (da) da[ia] += g / b[ib];
                if (db) db[ib] -= g * a[ia] / (b[ib] * b[ib]);
                break;
            }
          }
}

void softmax_backward(int64_t outer, int64_t c, int64_t inner, const float* y, const float* dy, float* dx) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * c * inner + i;
      float dot = 0.f;
      for (int64_t k = 0; k < c; ++k) dot += dy[base + k * inner] * y[base + k * inner];
      for (int64_t k = 0; k < c; ++k) dx[base + k * inner] = y[base + k * inner] * (dy[base + k * inner] - dot);
    }
}

void pool_backward(const PoolParams& p, const float* x, const float* dy, float* dx) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < p.n * p.c; ++nc) {
    const float* in = x + nc * in_sp;
    const float* g = dy + nc * out_sp;
    float* d = dx + nc * in_sp;
    std::fill(d, d + in_sp, 0.f);
    for (int64_t z = 0; z < p.out[0]; ++z)
      for (int64_t y = 0; y < p.out[1]; ++y)
        for (int64_t xo = 0; xo < p.out[2]; ++xo) {
          const float go = g[(z * p.out[1] + y) * p.out[2] + xo];
          // The forward kernel's window: its argmax (max), or its divisor (avg), then the shares.
          float mx = -std::numeric_limits<float>::infinity();
          int64_t arg = -1, inside = 0;
          const int64_t padded = walk_pool_window(p, z, y, xo, [&](int64_t i) {
            ++inside;
            if (in[i] > mx || arg < 0) {
              mx = in[i];
              arg = i;
            }
          });
          if (p.kind == PoolKind::max) {
            if (arg >= 0) d[arg] += go;
          } else {
            const float div = pool_divisor(p, inside, padded);
            walk_pool_window(p, z, y, xo, [&](int64_t i) { d[i] += go / div; });
          }
        }
  }
}

void adaptive_pool_backward(const AdaptivePoolParams& p, const float* x, const float* dy, float* dx) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < p.n * p.c; ++nc) {
    const float* in = x + nc * in_sp;
    const float* g = dy + nc * out_sp;
    float* d = dx + nc * in_sp;
    std::fill(d, d + in_sp, 0.f);
    for (int64_t z = 0; z < p.out[0]; ++z)
      for (int64_t y = 0; y < p.out[1]; ++y)
        for (int64_t xo = 0; xo < p.out[2]; ++xo) {
          const AdaptiveWindow w = adaptive_window(p, z, y, xo);
          const int64_t z0 = w.begin[0], z1 = w.end[0], y0 = w.begin[1], y1 = w.end[1], x0 = w.begin[2], x1 = w.end[2];
          const float go = g[(z * p.out[1] + y) * p.out[2] + xo];
          if (p.kind == PoolKind::avg) {
            const float share = go / static_cast<float>((z1 - z0) * (y1 - y0) * (x1 - x0));
            for (int64_t iz = z0; iz < z1; ++iz)
              for (int64_t iy = y0; iy < y1; ++iy)
                for (int64_t ix = x0; ix < x1; ++ix) d[(iz * p.in[1] + iy) * p.in[2] + ix] += share;
          } else {
            int64_t arg = -1;
            float mx = -std::numeric_limits<float>::infinity();
            for (int64_t iz = z0; iz < z1; ++iz)
              for (int64_t iy = y0; iy < y1; ++iy)
                for (int64_t ix = x0; ix < x1; ++ix) {
                  const int64_t idx = (iz * p.in[1] + iy) * p.in[2] + ix;
                  if (in[idx] > mx || arg < 0) {
                    mx = in[idx];
                    arg = idx;
                  }
                }
            d[arg] += go;
          }
        }
  }
}

namespace {
// Same source mapping as the forward resize kernel (resize_ref.cpp).
struct Tap {
  int64_t i0, i1;
  float w1;
};
Tap resize_tap(const ResizeParams& p, int axis, int64_t o) {
  const int64_t in = p.in[axis], out = p.out[axis];
  double s;
  if (p.mode == ResizeMode::nearest)
    s = std::min(static_cast<double>(in - 1), std::floor(static_cast<double>(o) * p.ratio[axis]));
  else if (p.align_corners)
    s = out > 1 ? static_cast<double>(o) * (in - 1) / (out - 1) : 0.0;
  else
    s = std::max(0.0, (o + 0.5) * p.ratio[axis] - 0.5);
  Tap t;
  t.i0 = std::min(static_cast<int64_t>(s), in - 1);
  t.i1 = std::min(t.i0 + 1, in - 1);
  t.w1 = p.mode == ResizeMode::nearest ? 0.f : static_cast<float>(s - t.i0);
  return t;
}
}  // namespace

void resize_backward(const ResizeParams& p, const float* dy, float* dx) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < p.n * p.c; ++nc) {
    const float* g = dy + nc * out_sp;
    float* d = dx + nc * in_sp;
    std::fill(d, d + in_sp, 0.f);
    for (int64_t z = 0; z < p.out[0]; ++z) {
      const Tap tz = resize_tap(p, 0, z);
      for (int64_t y = 0; y < p.out[1]; ++y) {
        const Tap ty = resize_tap(p, 1, y);
        for (int64_t x = 0; x < p.out[2]; ++x) {
          const Tap tx = resize_tap(p, 2, x);
          const float go = g[(z * p.out[1] + y) * p.out[2] + x];
          const int64_t iz[2] = {tz.i0, tz.i1}, iy[2] = {ty.i0, ty.i1}, ix[2] = {tx.i0, tx.i1};
          const float wz[2] = {1.f - tz.w1, tz.w1}, wy[2] = {1.f - ty.w1, ty.w1}, wx[2] = {1.f - tx.w1, tx.w1};
          for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 2; ++b)
              for (int c = 0; c < 2; ++c)
                d[(iz[a] * p.in[1] + iy[b]) * p.in[2] + ix[c]] += go * wz[a] * wy[b] * wx[c];
        }
      }
    }
  }
}


void pad_backward(const PadParams& p, const float* dy, float* dx) {
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < p.nc; ++nc) {
    float* d = dx + nc * in_sp;
    std::fill(d, d + in_sp, 0.f);
    for (int64_t z = 0; z < p.out[0]; ++z) {
      const int64_t iz = pad_source_index(z, p.begin[0], p.in[0], p.mode);
      for (int64_t y = 0; y < p.out[1]; ++y) {
        const int64_t iy = pad_source_index(y, p.begin[1], p.in[1], p.mode);
        for (int64_t x = 0; x < p.out[2]; ++x) {
          const int64_t ix = pad_source_index(x, p.begin[2], p.in[2], p.mode);
          if (iz >= 0 && iy >= 0 && ix >= 0)
            d[(iz * p.in[1] + iy) * p.in[2] + ix] += dy[nc * out_sp + (z * p.out[1] + y) * p.out[2] + x];
        }
      }
    }
  }
}

// The data gradient of a convolution is the transposed convolution with the same
// weights and geometry, input and output swapped (and vice versa); the weight layouts
// [oc, ic/g, k] and [ic, oc/g, k] line up exactly.
void conv_backward_data(const ConvParams& p, const float* dy, const float* wei, float* dx) {
  ConvParams t = p;
  t.ic = p.oc;
  t.oc = p.ic;
  for (int i = 0; i < 3; ++i) {
    t.in[i] = p.out[i];
    t.out[i] = p.in[i];
  }
  conv_transpose_f32__scalar_direct(t, dy, wei, nullptr, dx);
}

void conv_transpose_backward_data(const ConvParams& p, const float* dy, const float* wei, float* dx) {
  ConvParams t = p;
  t.ic = p.oc;
  t.oc = p.ic;
  for (int i = 0; i < 3; ++i) {
    t.in[i] = p.out[i];
    t.out[i] = p.in[i];
  }
  conv_f32__scalar_direct(t, dy, wei, nullptr, dx);
}

void concat_backward(int64_t outer, int64_t inner, int count, const int64_t* sizes, const float* dy, float** dx) {
  int64_t total = 0;
  for (int i = 0; i < count; ++i) total += sizes[i];
  for (int64_t o = 0; o < outer; ++o) {
    int64_t off = 0;
    for (int i = 0; i < count; ++i) {
      const int64_t len = sizes[i] * inner;
      if (dx[i]) std::memcpy(dx[i] + o * len, dy + (o * total + off) * inner, sizeof(float) * len);
      off += sizes[i];
    }
  }
}

void slice_backward(int64_t outer, int64_t in_len, int64_t inner, int64_t start, int64_t step, int64_t out_len,
                    const float* dy, float* dx) {
  std::fill(dx, dx + outer * in_len * inner, 0.f);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < out_len; ++j) {
      const int64_t src = start + j * step;
      for (int64_t i = 0; i < inner; ++i) dx[(o * in_len + src) * inner + i] += dy[(o * out_len + j) * inner + i];
    }
}

void copy_backward(int64_t count, const float* dy, float* dx) {
  if (dx != dy) std::memcpy(dx, dy, sizeof(float) * count);
}

}  // namespace vx::kern::ref
