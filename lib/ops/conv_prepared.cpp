#include "ops/conv_prepared.h"

namespace vx {

namespace {

bool same3(const int64_t* a, const int64_t* b) { return a[0] == b[0] && a[1] == b[1] && a[2] == b[2]; }

bool same(const kern::ConvParams& a, const kern::ConvParams& b) {
  return a.n == b.n && a.ic == b.ic && a.oc == b.oc && a.groups == b.groups && same3(a.in, b.in) &&
         same3(a.out, b.out) && same3(a.k, b.k) && same3(a.stride, b.stride) && same3(a.pad, b.pad) &&
         same3(a.dil, b.dil) && a.src_layout == b.src_layout && a.dst_layout == b.dst_layout;
}

bool same(const kern::ConvPostOps& a, const kern::ConvPostOps& b) {
  return a.act == b.act && a.alpha == b.alpha && a.has_residual == b.has_residual;
}

constexpr size_t kMaxProblems = 16;  // a slabbed convolution has three slab shapes at most

}  // namespace

void PreparedConvs::run(const kern::KernelTable& k, kern::WeightPacks* packs, const kern::ConvParams& p,
                        const kern::ConvPostOps& post, bool transpose, const float* wei, const float* bias,
                        const float* src, const float* residual, float* dst) {
  if (!k.prepare_conv) {
    if (transpose) return k.conv_transpose(p, src, wei, bias, dst);
    if (post.act == kern::Unary::identity && !post.has_residual) return k.conv(p, src, wei, bias, dst);
    return kern::run_conv_fused(k, p, post, src, wei, bias, residual, dst);
  }
  for (const Entry& e : entries_)
    if (e.transpose == transpose && e.wei == wei && e.bias == bias && same(e.p, p) && same(e.post, post))
      return e.conv->run(src, residual, dst);
  if (entries_.size() >= kMaxProblems) entries_.clear();
  entries_.push_back({p, post, transpose, wei, bias, k.prepare_conv(p, post, transpose, wei, bias, packs)});
  entries_.back().conv->run(src, residual, dst);
}

PreparedConvs& prepared_convs(RunContext& ctx) {
  if (auto* s = dynamic_cast<PreparedConvs*>(ctx.state.get())) return *s;
  ctx.state = std::make_unique<PreparedConvs>();
  return static_cast<PreparedConvs&>(*ctx.state);
}

void run_conv(const kern::KernelTable& k, PreparedConvs* prepared, kern::WeightPacks* packs, const kern::ConvParams& p,
              const kern::ConvPostOps& post, const float* wei, const float* bias, const float* src,
              const float* residual, float* dst) {
  if (prepared) return prepared->run(k, packs, p, post, false, wei, bias, src, residual, dst);
  kern::run_conv_fused(k, p, post, src, wei, bias, residual, dst);
}

}  // namespace vx
