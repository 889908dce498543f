// Small helpers the ops' Grad-CAM rules share (OpDef::backward, lib/graph/op.h).
#pragma once
#include <string>

#include "core/error.h"
#include "graph/graph.h"
#include "kernel_table.h"

namespace vx {

// `axis` (negative counts from the end) as an index into a rank-`rank` shape; throws when outside.
inline int norm_axis(int64_t axis, int rank) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(Status::invalid_argument, "axis " + std::to_string(axis) + " out of range");
  return static_cast<int>(a);
}

// A 2-D or 3-D NC* tensor's extents widened to 3 (depth 1 for 2-D); rank 2/3 tensors too.
inline void extents3(const Shape& s, int64_t ext[3]) {
  ext[0] = ext[1] = ext[2] = 1;
  const int nd = s.rank - 2;
  for (int i = 0; i < nd; ++i) ext[3 - nd + i] = s[2 + i];
}

// Convolution parameters of a Conv / ConvTranspose node from its input, weight and output
// shapes (the backward pass has all three; no checks: the forward run made them).
kern::ConvParams conv_geometry(const Node& node, const Shape& x, const Shape& w, const Shape& y);

}  // namespace vx
