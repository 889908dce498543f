#include "ops/conv_pool.h"

#include <algorithm>

#include "ops/conv_prepared.h"
#include "ops/planes.h"

namespace vx {

namespace {

// One slab: pooled planes [p0, p1) of the slab axis, the convolution planes [c0, c1) their
// windows read, and the input planes [i0, i1) those read; the begin paddings of the slab's
// convolution and pooling are what lies before c0 and i0 in the whole problem's padding.
struct Slab {
  int64_t p0 = 0, p1 = 0, c0 = 0, c1 = 0, i0 = 0, i1 = 0;
  int64_t conv_pad = 0, pool_pad = 0;
};

int64_t span(int64_t k, int64_t dil) { return dil * (k - 1) + 1; }
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }


Slab slab_of(const kern::ConvParams& c, const kern::PoolParams& q, int a, int64_t p0, int64_t p1) {
  Slab s;
  s.p0 = p0;
  s.p1 = p1;
  const int64_t lo_q = p0 * q.stride[a] - q.pad[a];
  const int64_t hi_q = (p1 - 1) * q.stride[a] - q.pad[a] + span(q.k[a], q.dil[a]);
  s.c0 = std::max<int64_t>(0, lo_q);
  s.c1 = std::min(c.out[a], hi_q);
  s.pool_pad = s.c0 - lo_q;
  const int64_t lo_c = s.c0 * c.stride[a] - c.pad[a];
  const int64_t hi_c = (s.c1 - 1) * c.stride[a] - c.pad[a] + span(c.k[a], c.dil[a]);
  s.i0 = std::max<int64_t>(0, lo_c);
  s.i1 = std::min(c.in[a], hi_c);
  s.conv_pad = s.i0 - lo_c;
  return s;
}

}  // namespace

ConvPoolPlan plan_conv_pool(const kern::ConvParams& c, const kern::PoolParams& q, const ConvPoolLimits& limits) {
  ConvPoolPlan pl;
  pl.axis = c.out[0] == 1 && q.out[0] == 1 ? 1 : 0;  // a 2-D problem is 3-D with depth 1
  const int a = pl.axis;
  const int64_t pooled = q.out[a];
  const int64_t conv_per_sample = c.oc * c.out[0] * c.out[1] * c.out[2];
  pl.pooled_per_slab = pooled;
  pl.conv_floats = conv_per_sample;
  int64_t per_slab = limits.pooled_per_slab;
  if (per_slab <= 0) {
    const double conv_bytes = static_cast<double>(conv_per_sample) * static_cast<double>(c.n) * sizeof(float);
    if (conv_bytes < static_cast<double>(limits.whole_below)) return pl;
    // Long enough that shared planes are at most 1/8 of a slab's, and enough planes per
    // sample that each convolution call still has work for every thread.
    const int64_t overlap = std::max<int64_t>(0, span(q.k[a], q.dil[a]) - q.stride[a]);
    const int64_t plane_bytes = c.oc * plane_floats(c.out, a, kern::Layout::plain) * static_cast<int64_t>(sizeof(float));
    per_slab = overlap ? ceil_div(8 * overlap, q.stride[a]) : 1;
    per_slab = std::max(per_slab, ceil_div(static_cast<int64_t>(limits.min_slab_bytes), q.stride[a] * plane_bytes));
  }
  if (per_slab >= pooled) return pl;

  int64_t most_conv = 0, most_in = 0;
  for (int64_t p0 = 0; p0 < pooled; p0 += per_slab) {
    const Slab s = slab_of(c, q, a, p0, std::min(pooled, p0 + per_slab));
    if (s.c1 <= s.c0 || s.i1 <= s.i0) return pl;  // a window or a slab entirely in padding
    most_conv = std::max(most_conv, s.c1 - s.c0);
    most_in = std::max(most_in, s.i1 - s.i0);
  }
  pl.pooled_per_slab = per_slab;
  pl.conv_floats = c.oc * most_conv * plane_floats(c.out, a, kern::Layout::plain);
  // A slab of a tensor is one contiguous run only when there is one sample and one channel
  // block; otherwise it is gathered into (src) or scattered from (dst) the scratch.
  if (c.n * channel_runs(c.ic, c.src_layout) > 1) pl.src_floats = c.ic * most_in * plane_floats(c.in, a, kern::Layout::plain);
  if (c.n * channel_runs(c.oc, c.dst_layout) > 1) pl.dst_floats = c.oc * per_slab * plane_floats(q.out, a, kern::Layout::plain);
  return pl;
}

void run_conv_pool(const kern::KernelTable& k, const ConvPoolPlan& plan, const kern::ConvParams& c,
                   const kern::ConvPostOps& post, const kern::PoolParams& q, const float* src, const float* wei,
                   const float* bias, float* dst, float* scratch, PreparedConvs* prepared, kern::WeightPacks* packs) {
  const int a = plan.axis;
  const int64_t pooled = q.out[a];
  if (plan.pooled_per_slab >= pooled) {  // one slab: the unfused pair
    run_conv(k, prepared, packs, c, post, wei, bias, src, nullptr, scratch);
    k.pool(q, scratch, dst);
    return;
  }
  const int64_t in_outer = c.n * channel_runs(c.ic, c.src_layout), out_outer = c.n * channel_runs(c.oc, c.dst_layout);
  const int64_t in_row = plane_floats(c.in, a, c.src_layout), out_row = plane_floats(q.out, a, c.dst_layout);
  float* conv_buf = scratch;
  float* src_buf = conv_buf + c.n * plan.conv_floats;
  float* dst_buf = src_buf + c.n * plan.src_floats;
  for (int64_t p0 = 0; p0 < pooled; p0 += plan.pooled_per_slab) {
    const Slab s = slab_of(c, q, a, p0, std::min(pooled, p0 + plan.pooled_per_slab));
    const float* slab_src = src + s.i0 * in_row;
    if (in_outer > 1) {
      copy_planes(in_outer, s.i1 - s.i0, in_row, src, c.in[a], s.i0, src_buf, s.i1 - s.i0, 0);
      slab_src = src_buf;
    }
    kern::ConvParams cs = c;
    cs.in[a] = s.i1 - s.i0;
    cs.pad[a] = s.conv_pad;
    cs.out[a] = s.c1 - s.c0;
    run_conv(k, prepared, packs, cs, post, wei, bias, slab_src, nullptr, conv_buf);
    kern::PoolParams qs = q;
    qs.in[a] = s.c1 - s.c0;
    qs.pad[a] = s.pool_pad;
    qs.out[a] = s.p1 - s.p0;
    k.pool(qs, conv_buf, out_outer > 1 ? dst_buf : dst + s.p0 * out_row);
    if (out_outer > 1) copy_planes(out_outer, s.p1 - s.p0, out_row, dst_buf, s.p1 - s.p0, 0, dst, pooled, s.p0);
  }
}

}  // namespace vx
