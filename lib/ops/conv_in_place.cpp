#include "ops/conv_in_place.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "ops/planes.h"

namespace vx {

bool conv_in_place_applies(const kern::ConvParams& p) {
  if (p.n != 1 || p.oc > p.ic || p.src_layout != p.dst_layout) return false;
  for (int i = 0; i < 3; ++i)
    if (p.stride[i] != 1 || p.out[i] != p.in[i]) return false;
  return true;
}

void run_conv_in_place(const kern::KernelTable& k, const kern::ConvParams& p, const kern::ConvPostOps& post,
                       const float* wei, const float* bias, float* data) {
  if (!conv_in_place_applies(p) || post.has_residual)
    fail(Status::internal, "a convolution over its own input needs one sample, stride 1, the same extents, "
                           "no more output than input channels, one layout and no residual");
  const int a = p.in[0] > 1 ? 0 : 1;
  const int64_t planes = p.in[a], pad = p.pad[a], span = p.dil[a] * (p.k[a] - 1) + 1;
  const int64_t in_runs = channel_runs(p.ic, p.src_layout), out_runs = channel_runs(p.oc, p.dst_layout);
  const int64_t row = plane_floats(p.in, a, p.src_layout);  // the output's too: same extents and layout
  // Output planes per slab: the input planes read twice (by two slabs) at most 1/4 of a slab's,
  // and at least the planes a slab must hold back (pad).
  const int64_t per_slab = std::min(planes, std::max<int64_t>({1, pad, 4 * (span - 1)}));
  const int64_t most_in = std::min(planes, per_slab + span - 1);
  const size_t gathered = in_runs > 1 ? static_cast<size_t>(in_runs * most_in * row) : 0;
  const size_t slab = static_cast<size_t>(out_runs * per_slab * row), held = static_cast<size_t>(out_runs * pad * row);
  thread_local std::vector<float> scratch;
  if (scratch.size() < gathered + slab + held) scratch.resize(gathered + slab + held);
  float* in_buf = scratch.data();
  float* out_buf = in_buf + gathered;
  float* held_buf = out_buf + slab;

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
    kern::run_conv_fused(k, s, post, src, wei, bias, nullptr, out_buf);
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
