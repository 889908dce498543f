#include <algorithm>
#include <cstring>

#include "cpu/view_cpu.h"

namespace vx::kern::cpu {
namespace {

// The same copy with extent-1 axes dropped and neighbouring axes merged where the source
// walks them as one (no tiling on either, stride of the outer = extent x stride of the inner).
ViewCopyParams simplify(const ViewCopyParams& p) {
  ViewCopyParams q;
  q.src_offset = p.src_offset;
  q.rank = 0;
  for (int k = 0; k < p.rank; ++k) {
    if (p.out[k] == 1) continue;
    const bool plain = p.src_dims[k] == p.out[k] || p.src_dims[k] == 1;
    const int64_t stride = p.src_dims[k] == 1 ? 0 : p.src_stride[k];
    if (q.rank > 0) {
      const int j = q.rank - 1;
      const bool prev_plain = q.src_dims[j] == q.out[j];
      if (plain && prev_plain && q.src_stride[j] == stride * p.out[k]) {
        q.out[j] *= p.out[k];
        q.src_dims[j] = q.out[j];
        q.src_stride[j] = stride;
        continue;
      }
    }
    q.out[q.rank] = p.out[k];
    q.src_dims[q.rank] = plain ? p.out[k] : p.src_dims[k];
    q.src_stride[q.rank] = stride;
    ++q.rank;
  }
  if (q.rank == 0) {
    q.rank = 1;
    q.out[0] = q.src_dims[0] = 1;
    q.src_stride[0] = 1;
  }
  return q;
}

// Odometer over axes [0, upto) except `skip`: calls f(dst_offset, src_offset).
template <class F>
void outer_loop(const ViewCopyParams& q, int upto, int skip, F f) {
  int64_t dst_stride[kViewMaxRank];
  int64_t s = 1;
  for (int k = q.rank - 1; k >= 0; --k) {
    dst_stride[k] = s;
    s *= q.out[k];
  }
  int64_t idx[kViewMaxRank] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (;;) {
    int64_t d = 0, src = q.src_offset;
    for (int k = 0; k < upto; ++k) {
      d += idx[k] * dst_stride[k];
      src += (idx[k] % q.src_dims[k]) * q.src_stride[k];
    }
    f(d, src);
    int k = upto - 1;
    for (; k >= 0; --k) {
      if (k == skip) continue;
      if (++idx[k] < q.out[k]) break;
      idx[k] = 0;
    }
    if (k < 0) return;
  }
}

}  // namespace

void view_copy_f32__cpu_blocked(const ViewCopyParams& p, const float* src, float* dst) {
  const ViewCopyParams q = simplify(p);
  const int last = q.rank - 1;
  const int64_t n = q.out[last], sd = q.src_dims[last], ss = q.src_stride[last];
  // A transpose moving the unit-stride axis j: tiles over (j, last).
  int j = -1;
  if (ss != 1 && sd == n)
    for (int k = 0; k < last; ++k)
      if (q.src_stride[k] == 1 && q.src_dims[k] == q.out[k]) j = k;
  if (j >= 0) {
    int64_t dj = 1;  // dst stride of axis j
    for (int k = j + 1; k < q.rank; ++k) dj *= q.out[k];
    const int64_t m = q.out[j];
    constexpr int64_t T = 32;
    outer_loop(q, last, j, [&](int64_t d, int64_t s) {
      for (int64_t a0 = 0; a0 < m; a0 += T)
        for (int64_t b0 = 0; b0 < n; b0 += T) {
          const int64_t a1 = std::min(m, a0 + T), b1 = std::min(n, b0 + T);
          for (int64_t a = a0; a < a1; ++a) {
            float* o = dst + d + a * dj;
            const float* in = src + s + a;
            for (int64_t b = b0; b < b1; ++b) o[b] = in[b * ss];
          }
        }
    });
    return;
  }
  outer_loop(q, last, -1, [&](int64_t d, int64_t s) {
    float* o = dst + d;
    const float* in = src + s;
    if (sd == n && ss == 1) {
      std::memcpy(o, in, static_cast<size_t>(n) * sizeof(float));
    } else if (ss == 0 || sd == 1) {
      std::fill(o, o + n, in[0]);
    } else if (sd == n) {
      for (int64_t b = 0; b < n; ++b) o[b] = in[b * ss];
    } else {  // tiled: copy the source row once, then repeat it
      for (int64_t b = 0; b < sd; ++b) o[b] = in[b * ss];
      for (int64_t b = sd; b < n; b += sd) std::memcpy(o + b, o, static_cast<size_t>(std::min(sd, n - b)) * sizeof(float));
    }
  });
}

}  // namespace vx::kern::cpu
