// A prepared oneDNN convolution or deconvolution: the problem in oneDNN's terms, the
// primitive with its post-ops, and each run with reorders at the edges where the primitive
// works on other layouts than the caller's.
#include <omp.h>

#include <algorithm>
#include <unordered_map>

#include "cpu/onednn_common.h"

namespace vx::kern::cpu::onednn {

namespace {

dnnl::algorithm eltwise_alg(Unary u) {
  switch (u) {
    case Unary::relu:
    case Unary::leaky_relu: return dnnl::algorithm::eltwise_relu;
    case Unary::sigmoid: return dnnl::algorithm::eltwise_logistic;
    case Unary::tanh: return dnnl::algorithm::eltwise_tanh;
    case Unary::identity: break;
  }
  return dnnl::algorithm::undef;
}

}  // namespace

Problem make_problem(const ConvParams& p, const ConvPostOps& post, bool transpose, bool has_bias) {
  Problem r;
  // A 2-D problem (depth 1 everywhere) goes to oneDNN as 2-D: its 2-D kernels are tuned.
  r.two_d = p.in[0] == 1 && p.out[0] == 1 && p.k[0] == 1 && p.pad[0] == 0 && p.stride[0] == 1;
  const int a0 = r.two_d ? 1 : 0;
  const int64_t g = p.groups, ocg = p.oc / g, icg = p.ic / g;
  r.src_d = {p.n, p.ic}, r.dst_d = {p.n, p.oc};
  r.wei_d = g > 1 ? memory::dims{g, ocg, icg} : memory::dims{p.oc, p.ic};
  for (int i = a0; i < 3; ++i) {
    r.src_d.push_back(p.in[i]);
    r.dst_d.push_back(p.out[i]);
    r.wei_d.push_back(p.k[i]);
    r.strides.push_back(p.stride[i]);
    r.dil.push_back(p.dil[i] - 1);
    r.pad_l.push_back(p.pad[i]);
    const int64_t span = (p.k[i] - 1) * p.dil[i] + 1;
    // Right padding that reproduces p.out (ONNX's end padding is not in ConvParams).
    if (!transpose) r.pad_r.push_back(std::max<int64_t>(0, (p.out[i] - 1) * p.stride[i] + span - p.in[i] - p.pad[i]));
    else r.pad_r.push_back((p.in[i] - 1) * p.stride[i] + span - p.pad[i] - p.out[i]);
  }
  const bool two_d = r.two_d;
  const tag plain = two_d ? tag::nchw : tag::ncdhw, blocked16 = two_d ? tag::nChw16c : tag::nCdhw16c;
  tag wei_tag;
  if (!transpose) wei_tag = g > 1 ? (two_d ? tag::goihw : tag::goidhw) : (two_d ? tag::oihw : tag::oidhw);
  else wei_tag = g > 1 ? (two_d ? tag::giohw : tag::giodhw) : (two_d ? tag::iohw : tag::iodhw);
  // A caller with one side blocked gets oneDNN's own layouts (plus a reorder) on the other:
  // oneDNN has no fast kernels for mixed blocked/plain operands, except a one-channel plain
  // src (the first layer), which it reads directly.
  const bool blocked = use_blocked(p, transpose) || (p.src_layout != p.dst_layout && p.ic > 1);
  const bool src_b = p.src_layout == Layout::blocked16, dst_b = p.dst_layout == Layout::blocked16;
  r.src_user = memory::desc(r.src_d, dt::f32, src_b ? blocked16 : plain);
  r.dst_user = memory::desc(r.dst_d, dt::f32, dst_b ? blocked16 : plain);
  // A caller already in the blocked layout gets a primitive on it (no reorder); otherwise
  // oneDNN chooses (and we reorder at the edges) or runs on the plain layout directly.
  r.src_any = src_b || !blocked ? r.src_user : memory::desc(r.src_d, dt::f32, tag::any);
  r.dst_any = dst_b || !blocked ? r.dst_user : memory::desc(r.dst_d, dt::f32, tag::any);
  r.src_any_free = memory::desc(r.src_d, dt::f32, tag::any);
  r.dst_any_free = memory::desc(r.dst_d, dt::f32, tag::any);
  r.wei_any = memory::desc(r.wei_d, dt::f32, tag::any);
  r.wei_user = memory::desc(r.wei_d, dt::f32, wei_tag);
  r.bias_md = has_bias ? memory::desc({p.oc}, dt::f32, tag::x) : memory::desc();
  r.attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::post_ops po;
  if (post.has_residual) po.append_sum(1.f);
  if (post.act != Unary::identity)
    po.append_eltwise(1.f, eltwise_alg(post.act), post.act == Unary::leaky_relu ? post.alpha : 0.f, 0.f);
  r.attr.set_post_ops(po);
  return r;
}

PreparedPrimitive::PreparedPrimitive(const ConvParams& p, const ConvPostOps& post, bool transpose, const float* wei,
                                     const float* bias, const Problem& pr, Chosen c, WeightPacks* packs)
    : p_(p), post_(post), transpose_(transpose), wei_(wei), bias_(bias), threads_(omp_get_max_threads()),
      prim_(std::move(c.prim)), src_user_(pr.src_user), dst_user_(pr.dst_user), src_md_(c.src_md), dst_md_(c.dst_md),
      scratch_bytes_(c.scratch_md.get_size()) {
  // With one channel, channels-last is byte-for-byte the plain layout: no reorder needed.
  const tag last = pr.two_d ? tag::nhwc : tag::ndhwc;
  if (p.ic == 1 && p.src_layout == Layout::plain && src_md_ == memory::desc(pr.src_d, dt::f32, last)) src_md_ = src_user_;
  if (p.oc == 1 && p.dst_layout == Layout::plain && dst_md_ == memory::desc(pr.dst_d, dt::f32, last)) dst_md_ = dst_user_;
  weights_ = pack_weights(pr.wei_user, c.wei_md, wei, bias, p.oc, packs);
}

void PreparedPrimitive::run(const float* src, const float* residual, float* dst) const {
  if (omp_get_max_threads() != threads_) {
    // oneDNN splits work by the thread count its primitive was made for: made for this one.
    auto once = transpose_ ? prepare_conv_transpose_f32__onednn_deconv(p_, wei_, bias_, nullptr)
                           : prepare_conv_f32__onednn_primitive(p_, post_, wei_, bias_, nullptr);
    return once->run(src, residual, dst);
  }
  const float* bias = weights_->bias.empty() ? bias_ : weights_->bias.data();
  dnnl::engine& eng = engine();
  dnnl::stream s(eng);
  memory src_user(src_user_, eng, const_cast<float*>(src));
  memory dst_user(dst_user_, eng, dst);
  const bool src_reorder = src_md_ != src_user_, dst_reorder = dst_md_ != dst_user_;
  memory src_m =
      src_reorder ? memory(src_md_, eng, thread_scratch(ScratchUse::src, src_md_.get_size())) : src_user;
  memory dst_m =
      dst_reorder ? memory(dst_md_, eng, thread_scratch(ScratchUse::dst, dst_md_.get_size())) : dst_user;
  if (src_reorder) dnnl::reorder(src_user, src_m).execute(s, src_user, src_m);
  if (post_.has_residual) {
    // The sum post-op accumulates into what dst already holds.
    memory res_user(dst_user_, eng, const_cast<float*>(residual));
    if (dst_reorder) dnnl::reorder(res_user, dst_m).execute(s, res_user, dst_m);
    else if (residual != dst) dnnl::reorder(res_user, dst_m).execute(s, res_user, dst_m);  // parallel copy
  }
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, weights_->wei}, {DNNL_ARG_DST, dst_m}};
  if (bias) args[DNNL_ARG_BIAS] = memory(memory::desc({p_.oc}, dt::f32, tag::x), eng, const_cast<float*>(bias));
  if (scratch_bytes_)
    args[DNNL_ARG_SCRATCHPAD] = memory(memory::desc({static_cast<int64_t>(scratch_bytes_)}, dt::u8, tag::x), eng,
                                       thread_scratch(ScratchUse::primitive, scratch_bytes_));
  prim_.execute(s, args);
  if (dst_reorder) dnnl::reorder(dst_m, dst_user).execute(s, dst_m, dst_user);
  s.wait();
}

}  // namespace vx::kern::cpu::onednn
