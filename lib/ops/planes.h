// Planes along one spatial axis of an activation, for the ops that work in slabs of planes
// (lib/ops/conv_pool.h, lib/ops/conv_in_place.h). An [N, C, D, H, W] tensor (2-D: D = 1) is
// seen as `outer` runs of planes: N * C runs in plain layout, N * C/16 in blocked16, each of
// extent planes of `row` floats (the extents after the axis, times 16 when blocked).
#pragma once
#include <cstdint>

#include "params.h"

namespace vx {

// Floats in one plane of `axis` (0 = depth, 1 = height) of one channel (plain) or one channel
// block (blocked16).
int64_t plane_floats(const int64_t ext[3], int axis, kern::Layout layout);

// Channel runs per sample: C in plain layout, C/16 in blocked16.
int64_t channel_runs(int64_t channels, kern::Layout layout);

// Copies `count` planes of `row` floats from each of `outer` runs of `from_ext` planes,
// starting at plane `from_x0`, into runs of `to_ext` planes of `to`, starting at `to_x0`:
// gathers a slab out of a whole tensor and scatters one back.
void copy_planes(int64_t outer, int64_t count, int64_t row, const float* from, int64_t from_ext, int64_t from_x0,
                 float* to, int64_t to_ext, int64_t to_x0);

}  // namespace vx
