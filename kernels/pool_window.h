// The input window of one pooled voxel, shared by every pooling kernel (forward and backward,
// reference, blocked, AVX-512 and CUDA), so that they visit the same positions in the same
// order and agree bit for bit with the reference.
#pragma once
#include <cstdint>

#include "params.h"

#ifdef __CUDACC__
#define VX_HOST_DEVICE __host__ __device__
#else
#define VX_HOST_DEVICE
#endif

namespace vx::kern {

// Calls visit(offset) for every position of output voxel (z, y, x)'s window that lies inside
// the input (offset within one channel's D*H*W), kz, ky, kx in order. Returns how many window
// positions lie inside the input plus its padding: average pooling's divisor when
// count_include_pad (the window never counts what lies past the end padding).
template <class Visit>
VX_HOST_DEVICE inline int64_t walk_pool_window(const PoolParams& p, int64_t z, int64_t y, int64_t x, Visit&& visit) {
  int64_t padded = 0;
  for (int64_t kz = 0; kz < p.k[0]; ++kz)
    for (int64_t ky = 0; ky < p.k[1]; ++ky)
      for (int64_t kx = 0; kx < p.k[2]; ++kx) {
        const int64_t iz = z * p.stride[0] - p.pad[0] + kz * p.dil[0];
        const int64_t iy = y * p.stride[1] - p.pad[1] + ky * p.dil[1];
        const int64_t ix = x * p.stride[2] - p.pad[2] + kx * p.dil[2];
        if (iz < p.in[0] + p.pad[0] && iy < p.in[1] + p.pad[1] && ix < p.in[2] + p.pad[2]) ++padded;
        if (iz < 0 || iy < 0 || ix < 0 || iz >= p.in[0] || iy >= p.in[1] || ix >= p.in[2]) continue;
        visit((iz * p.in[1] + iy) * p.in[2] + ix);
      }
  return padded;
}

// Average pooling's divisor for a window with `inside` positions in the input and `padded`
// in input plus padding (an empty window divides by 1).
VX_HOST_DEVICE inline float pool_divisor(const PoolParams& p, int64_t inside, int64_t padded) {
  return static_cast<float>(p.count_include_pad ? padded : (inside ? inside : 1));
}

// PyTorch's adaptive window of output voxel (z, y, x): along each axis
// [floor(i * in / out), ceil((i + 1) * in / out)).
struct AdaptiveWindow {
  int64_t begin[3], end[3];
  VX_HOST_DEVICE int64_t size() const { return (end[0] - begin[0]) * (end[1] - begin[1]) * (end[2] - begin[2]); }
};

VX_HOST_DEVICE inline AdaptiveWindow adaptive_window(const AdaptivePoolParams& p, int64_t z, int64_t y, int64_t x) {
  const int64_t o[3] = {z, y, x};
  AdaptiveWindow w;
  for (int i = 0; i < 3; ++i) {
    w.begin[i] = o[i] * p.in[i] / p.out[i];
    w.end[i] = ((o[i] + 1) * p.in[i] + p.out[i] - 1) / p.out[i];
  }
  return w;
}

}  // namespace vx::kern
