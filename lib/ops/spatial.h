// Helpers shared by the spatial ops: NCHW / NCDHW shapes seen as 3-D (depth 1 for 2-D),
// and ONNX-style per-axis attributes widened to three axes.
#pragma once
#include <string>
#include <vector>

#include "core/error.h"
#include "graph/graph.h"
#include "kernel_table.h"

namespace vx {

struct Spatial {
  int nd = 0;                   // 2 or 3 spatial axes
  int64_t n = 1, c = 1;
  int64_t ext[3] = {1, 1, 1};   // D, H, W (D = 1 for 2-D)
};

// Accepts [N, C, H, W] or [N, C, D, H, W]; throws naming `what` otherwise.
Spatial spatial_of(const Shape& s, const char* what);
// Builds [N, C, H, W] or [N, C, D, H, W] from 3-D extents.
Shape spatial_shape(int nd, int64_t n, int64_t c, const int64_t ext[3]);

// Reads a per-axis integer attribute with `nd` entries (or `2*nd` when `twice`, as ONNX
// pads: all begins then all ends) into 3-D arrays, filling the missing depth axis with `fill`.
// Absent attribute: every entry is `def`.
void spatial_attr(const Node& node, const std::string& name, int nd, int64_t def, int64_t fill, int64_t out[3]);
void spatial_pads(const Node& node, int nd, int64_t begin[3], int64_t end[3], const std::string& prefix = "");

// MaxPool / AveragePool parameters (lib/ops/pool.cpp) for input `x`, from the attributes
// kernel_shape, strides, pads, dilations, ceil_mode, count_include_pad, each name preceded
// by `prefix` (a Conv with a fused pooling keeps them as vx_pool_*; lib/ops/conv_pool.h).
kern::PoolParams pool_params(const Node& node, const Shape& x, kern::PoolKind kind, const std::string& prefix = "");

// Memory layout of one activation of a node, from the attribute the executor's layout pass
// sets (lib/exec/layout.h; absent = plain). Blocked needs `channels` % 16 == 0 and kernels
// that take it (a `reorder` entry); anything else is refused, so no kernel misreads memory.
inline constexpr const char* kLayoutX = "vx_layout_x";  // a node's first input
inline constexpr const char* kLayoutY = "vx_layout_y";  // its output (and a Conv's residual)
kern::Layout layout_attr(const Node& node, const char* key, int64_t channels, const kern::KernelTable& kernels);

}  // namespace vx
