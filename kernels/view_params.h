// Parameters of the view-op kernels (issue 18: Transpose, Expand, Tile, Split, Where). Their
// own rank limit, kViewMaxRank, so view and transpose ops can go past the compute ops' rank
// (SwinUNETR's window partition is rank 6-8) without changing these kernels.
#pragma once
#include <cstdint>

namespace vx::kern {

constexpr int kViewMaxRank = 8;

// dst is contiguous over out[0..rank). Output element (i_0, .., i_{rank-1}) reads
//   src[src_offset + sum_k (i_k % src_dims[k]) * src_stride[k]]
// Transpose: src_dims = out, strides permuted; Expand: src_dims[k] = 1 (or stride 0) on a
// broadcast axis; Tile: src_dims = the input's extents; Split: src_offset at the part.
struct ViewCopyParams {
  int rank = 0;
  int64_t out[kViewMaxRank] = {1, 1, 1, 1, 1, 1, 1, 1};
  int64_t src_dims[kViewMaxRank] = {1, 1, 1, 1, 1, 1, 1, 1};
  int64_t src_stride[kViewMaxRank] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t src_offset = 0;
};

// dst (contiguous over out) = mask != 0 ? a : b, each operand read through its own element
// strides (0 on a broadcast axis).
struct SelectParams {
  int rank = 0;
  int64_t out[kViewMaxRank] = {1, 1, 1, 1, 1, 1, 1, 1};
  int64_t mask_stride[kViewMaxRank] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t a_stride[kViewMaxRank] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t b_stride[kViewMaxRank] = {0, 0, 0, 0, 0, 0, 0, 0};
};

}  // namespace vx::kern
