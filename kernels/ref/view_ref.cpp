// Reference view kernels (kernels/view_params.h): the definitions as odometer loops.
#include <cstring>

#include "ref/view_ref.h"

namespace vx::kern::ref {
namespace {

int64_t numel(int rank, const int64_t* d) {
  int64_t n = 1;
  for (int k = 0; k < rank; ++k) n *= d[k];
  return n;
}

// Calls f(i, s0, s1, s2) for every output element i in order, with the three operands'
// element offsets given per-axis index functions.
template <class Src, class F>
void odometer(int rank, const int64_t* out, Src src_index, F f) {
  const int64_t n = numel(rank, out);
  int64_t idx[kViewMaxRank] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t i = 0; i < n; ++i) {
    f(i, src_index(idx));
    for (int k = rank - 1; k >= 0; --k) {
      if (++idx[k] < out[k]) break;
      idx[k] = 0;
    }
  }
}

int64_t view_source(const ViewCopyParams& p, const int64_t* idx) {
  int64_t s = p.src_offset;
  for (int k = 0; k < p.rank; ++k) s += (idx[k] % p.src_dims[k]) * p.src_stride[k];
  return s;
}

struct SelectOffsets {
  int64_t m, a, b;
};
SelectOffsets select_offsets(const SelectParams& p, const int64_t* idx) {
  SelectOffsets o{0, 0, 0};
  for (int k = 0; k < p.rank; ++k) {
    o.m += idx[k] * p.mask_stride[k];
    o.a += idx[k] * p.a_stride[k];
    o.b += idx[k] * p.b_stride[k];
  }
  return o;
}

}  // namespace

void view_copy_f32__scalar_ref(const ViewCopyParams& p, const float* src, float* dst) {
  odometer(p.rank, p.out, [&](const int64_t* idx) { return view_source(p, idx); },
           [&](int64_t i, int64_t s) { dst[i] = src[s]; });
}

void view_copy_backward(const ViewCopyParams& p, int64_t src_count, const float* dy, float* dx) {
  std::memset(dx, 0, static_cast<size_t>(src_count) * sizeof(float));
  odometer(p.rank, p.out, [&](const int64_t* idx) { return view_source(p, idx); },
           [&](int64_t i, int64_t s) { dx[s] += dy[i]; });
}

void select_f32__scalar_ref(const SelectParams& p, const float* mask, const float* a, const float* b, float* dst) {
  odometer(p.rank, p.out, [&](const int64_t* idx) { return select_offsets(p, idx); },
           [&](int64_t i, SelectOffsets o) { dst[i] = mask[o.m] != 0.0f ? a[o.a] : b[o.b]; });
}

void select_backward(const SelectParams& p, const float* mask, const float* dy, int64_t a_count, float* da,
                     int64_t b_count, float* db) {
  if (da) std::memset(da, 0, static_cast<size_t>(a_count) * sizeof(float));
  if (db) std::memset(db, 0, static_cast<size_t>(b_count) * sizeof(float));
  odometer(p.rank, p.out, [&](const int64_t* idx) { return select_offsets(p, idx); },
           [&](int64_t i, SelectOffsets o) {
             if (mask[o.m] != 0.0f) {
               if (da) da[o.a] += dy[i];
             } else if (db) {
               db[o.b] += dy[i];
             }
           });
}

}  // namespace vx::kern::ref
