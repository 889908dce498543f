#include "ops/conv_in_place.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "ops/conv_prepared.h"
#include "ops/planes.h"

namespace vx {

bool conv_in_place_applies(const kern::ConvParams& p) {
  if (p.n != 1 || p.oc > p.ic || p.src_layout != p.dst_layout) return false;
  for (int i = 0; i < 3; ++i)
    if (p.stride[i] != 1 || p.out[i] != p.in[i]) return false;
  return true;
}

namespace {

// How the planes are cut: slabs along `axis`, and the scratch parts for one slab.
struct Slabs {
  int axis = 0;
  int64_t planes = 0, pad = 0, span = 1, in_runs = 1, out_runs = 1, row = 1, per_slab = 1;
  int64_t gathered = 0, slab = 0, held = 0;  // floats: input planes of a slab, its output, held back
};

Slabs slabs_of(const kern::ConvParams& p) {
  Slabs s;
  s.axis = p.in[0] > 1 ? 0 : 1;
  const int a = s.axis;
  s.planes = p.in[a], s.pad = p.pad[a], s.span = p.dil[a] * (p.k[a] - 1) + 1;
  s.in_runs = channel_runs(p.ic, p.src_layout), s.out_runs = channel_runs(p.oc, p.dst_layout);
  s.row = plane_floats(p.in, a, p.src_layout);  // the output's too: same extents and layout
  // Output planes per slab: the input planes read twice (by two slabs) at most 1/4 of a slab's,
  // and at least the planes a slab must hold back (pad).
  s.per_slab = std::min(s.planes, std::max<int64_t>({1, s.pad, 4 * (s.span - 1)}));
  const int64_t most_in = std::min(s.planes, s.per_slab + s.span - 1);
  s.gathered = s.in_runs > 1 ? s.in_runs * most_in * s.row : 0;  // one run is read in place
  s.slab = s.out_runs * s.per_slab * s.row;
  s.held = s.out_runs * s.pad * s.row;
  return s;
}

}  // namespace

int64_t conv_in_place_scratch_floats(const kern::ConvParams& p) {
  const Slabs s = slabs_of(p);
  return s.gathered + s.slab + s.held;
}

void run_conv_in_place(const kern::KernelTable& k, const kern::ConvParams& p, const kern::ConvPostOps& post,
                       const float* wei, const float* bias, float* data, float* scratch, int64_t scratch_floats,
                       PreparedConvs* prepared, kern::WeightPacks* packs) {
  if (!conv_in_place_applies(p) || post.has_residual)
    fail(Status::internal, "a convolution over its own input needs one sample, stride 1, the same extents, "
                           "no more output than input channels, one layout and no residual");
  const Slabs sl = slabs_of(p);
  const int a = sl.axis;
  const int64_t planes = sl.planes, pad = sl.pad, span = sl.span, row = sl.row, per_slab = sl.per_slab;
  const int64_t in_runs = sl.in_runs, out_runs = sl.out_runs;
  if (!scratch || scratch_floats < sl.gathered + sl.slab + sl.held) {
    thread_local std::vector<float> own;
    if (static_cast<int64_t>(own.size()) < sl.gathered + sl.slab + sl.held) own.resize(sl.gathered + sl.slab + sl.held);
    scratch = own.data();
  }
  float* in_buf = scratch;
  float* out_buf = in_buf + sl.gathered;
  float* held_buf = out_buf + sl.slab;

  int64_t first_held = 0;  // output planes [first_held, c0) wait in held_buf
  for (int64_t c0 = 0; c0 < planes; c0 += per_slab) {
    const int64_t c1 = std::min(planes, c0 + per_slab);
    const int64_t lo = c0 - pad, hi = c1 - 1 - pad + span;  // input planes the slab reads
    const int64_t i0 = std::max<int64_t>(0, lo), i1 = std::min(planes, hi);
    const float* src = data + i0 * row;
    if (in_runs > 1) {
      copy_planes(in_runs, i1 - i0, row, data, planes, i0, in_buf, i1 - i0, 0);
      src = in_buf;
    }
    kern::ConvParams s = p;
    s.in[a] = i1 - i0;
    s.pad[a] = i0 - lo;
    s.out[a] = c1 - c0;
    run_conv(k, prepared, packs, s, post, wei, bias, src, nullptr, out_buf);
    // Output plane z covers input plane z, which later slabs read from c1 - pad on: planes
    // before that are written now, the rest wait for the next slab.
    const int64_t done = c1 == planes ? planes : c1 - pad;
    copy_planes(out_runs, c0 - first_held, row, held_buf, pad, 0, data, planes, first_held);
    copy_planes(out_runs, done - c0, row, out_buf, c1 - c0, 0, data, planes, c0);
    copy_planes(out_runs, c1 - done, row, out_buf, c1 - c0, done - c0, held_buf, pad, 0);
    first_held = done;
  }
}

}  // namespace vx
