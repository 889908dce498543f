// A convolution whose only reader is a max pooling, run in slabs along the outermost spatial
// axis (depth in 3-D, height in 2-D): each slab computes the convolution planes that a few
// pooled planes need into a scratch buffer and pools them at once, so the full convolution
// output never exists. A 3-D ResNet stem at 64x128x128 writes 64x32x64x64 floats (34 MB) that
// only its max pooling reads; slabbed, the scratch is about a quarter of that.
// Planes that two slabs' windows share are computed twice: slabs are made long enough that
// this is at most 1/8 more convolution. Small problems (under `whole_below` bytes of
// convolution output) run as one slab: the unfused cost, no recomputation.
// fuse_graph (lib/exec/fuse.h) writes such a pair as one Conv with vx_pool_* attributes and a
// second output, the scratch, which the memory planner gives arena bytes for that step only.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernel_table.h"

namespace vx {

class PreparedConvs;

struct ConvPoolPlan {
  int axis = 0;                  // slab axis of the 3-D extents: 0 (depth), or 1 (height) for 2-D
  int64_t pooled_per_slab = 0;   // pooled planes per slab (all of them: one slab)
  // Scratch floats per sample: convolution planes of one slab, and where a slab of src or dst
  // is not one contiguous run (several samples or channel blocks), its gathered copy.
  int64_t conv_floats = 0, src_floats = 0, dst_floats = 0;
  int64_t scratch_per_sample() const { return conv_floats + src_floats + dst_floats; }
};

// How slabs are chosen; tests shrink them to reach every boundary case on small problems.
struct ConvPoolLimits {
  size_t whole_below = size_t{8} << 20;  // bytes of convolution output run as one slab
  size_t min_slab_bytes = size_t{1} << 20;  // convolution planes per slab and sample, at least
  int64_t pooled_per_slab = 0;  // > 0: exactly this many (the two limits above are ignored)
};

// `conv` and `pool` describe the whole problem: pool.in == conv.out, pool.n == conv.n,
// pool.c == conv.oc, a max pooling whose layout is conv.dst_layout.
ConvPoolPlan plan_conv_pool(const kern::ConvParams& conv, const kern::PoolParams& pool,
                            const ConvPoolLimits& limits = {});

// dst = pool(act(conv(src) + bias)) with `kernels`, slab by slab as `plan` says; `scratch`
// holds plan.scratch_per_sample() * conv.n floats. The slab convolutions go through `prepared`
// (the node's, packing into `packs`) when given, else the table's plain entries.
void run_conv_pool(const kern::KernelTable& kernels, const ConvPoolPlan& plan, const kern::ConvParams& conv,
                   const kern::ConvPostOps& post, const kern::PoolParams& pool, const float* src,
                   const float* wei, const float* bias, float* dst, float* scratch, PreparedConvs* prepared = nullptr,
                   kern::WeightPacks* packs = nullptr);

}  // namespace vx
