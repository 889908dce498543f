// What the oneDNN convolution files share (kernels/cpu only; not part of the kernel table):
// the engine, per-thread scratch, packed weights, and the prepared convolution that runs a
// oneDNN primitive with reorders at its edges.
//   onednn_engine.cpp     engine (ISA cap), per-thread scratch, the conv layout setting
//   onednn_weights.cpp    weights packed into a primitive's layout (OnednnWeights)
//   onednn_primitive.cpp  a prepared primitive: problem descs, post-ops, run with edge reorders
//   onednn_conv.cpp       forward convolution      onednn_deconv.cpp  deconvolution
//   conv_fallback.cpp     shapes oneDNN refuses: the reference kernels through plain copies
//   onednn_reorder.cpp    activation layout conversion
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

#include "cpu/cpu_kernels.h"

namespace vx::kern::cpu::onednn {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// The CPU engine, made once; its first use caps oneDNN's JIT at VX_MAX_ISA. Every oneDNN call
// (sgemm included) goes after engine() so the cap holds everywhere.
dnnl::engine& engine();

// A per-thread, 64-byte aligned buffer that only grows; one per use so they never alias.
enum class ScratchUse { primitive, src, dst, gemm };
void* thread_scratch(ScratchUse use, size_t bytes);

// Whether oneDNN should choose src/dst layouts for this problem (see ConvLayout).
bool use_blocked(const ConvParams& p, bool transpose);

// Weights in a primitive's layout, and a copy of a bias that lives in a model file (reading
// it at every call would fault its pages, and their given-back neighbours, in again).
struct OnednnWeights : PackedWeights {
  memory wei;  // owns its buffer, or wraps the caller's weights when the layouts agree
  std::vector<float> bias;
};

// The weights at `wei` (plain, `user_md`) in the layout `packed_md`, with the bias copy when
// `bias` lies in the owner's file. Shared through `packs` (keyed by both addresses and the
// packed desc, so sessions whose primitives chose the same layout share one copy, whatever
// their thread counts); owned by the result alone when packs is NULL.
std::shared_ptr<const OnednnWeights> pack_weights(const memory::desc& user_md, const memory::desc& packed_md,
                                                  const float* wei, const float* bias, int64_t oc, WeightPacks* packs);

// The problem in oneDNN's terms: dims, the caller's layouts and what the primitive may choose.
struct Problem {
  memory::dims src_d, dst_d, wei_d, strides, dil, pad_l, pad_r;
  memory::desc src_user, dst_user, src_any, dst_any, wei_any, wei_user, bias_md;
  memory::desc src_any_free, dst_any_free;  // format_tag::any: for when src_any/dst_any get only ref kernels
  bool two_d = false;
  dnnl::primitive_attr attr;  // user scratchpad, post-ops
};
Problem make_problem(const ConvParams& p, const ConvPostOps& post, bool transpose, bool has_bias);

// Whether oneDNN answered with its reference implementation (impl name "ref:..."), which
// is an order of magnitude slower than its JIT kernels.
template <class PrimitiveDesc>
bool is_reference(const PrimitiveDesc& pd) {
  const char* impl = pd.impl_info_str();
  return impl && std::string(impl).rfind("ref", 0) == 0;
}

// What oneDNN chose for a problem: the primitive and its layouts.
struct Chosen {
  dnnl::primitive prim;
  memory::desc src_md, dst_md, wei_md, scratch_md;
};
template <class Primitive, class PrimitiveDesc>
Chosen chosen(const PrimitiveDesc& pd) {
  return {Primitive(pd), pd.src_desc(), pd.dst_desc(), pd.weights_desc(), pd.scratchpad_desc()};
}

// A prepared oneDNN convolution or deconvolution: the primitive (made for the thread count
// at preparation; a run under another count prepares a temporary one), its layouts, and its
// packed weights (shared with other sessions through the owner's WeightPacks).
class PreparedPrimitive : public PreparedConv {
 public:
  PreparedPrimitive(const ConvParams& p, const ConvPostOps& post, bool transpose, const float* wei, const float* bias,
                    const Problem& pr, Chosen c, WeightPacks* packs);
  void run(const float* src, const float* residual, float* dst) const override;

 private:
  ConvParams p_;
  ConvPostOps post_;
  bool transpose_;
  const float *wei_, *bias_;
  int threads_;
  dnnl::primitive prim_;
  memory::desc src_user_, dst_user_, src_md_, dst_md_;
  size_t scratch_bytes_ = 0;
  std::shared_ptr<const OnednnWeights> weights_;
};

// (The prepared forward convolution and deconvolution are cpu_kernels.h's
// prepare_conv_f32__onednn_primitive and prepare_conv_transpose_f32__onednn_deconv.)
// The reference kernels with post-ops, blocked operands through plain copies (conv_fallback.cpp).
std::shared_ptr<const PreparedConv> prepare_fallback(const ConvParams& p, const ConvPostOps& post, bool transpose,
                                                     const float* wei, const float* bias, WeightPacks* packs);

}  // namespace vx::kern::cpu::onednn
