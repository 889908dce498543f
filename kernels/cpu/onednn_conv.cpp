// Forward convolution through oneDNN: a prepared primitive (onednn_primitive.cpp) whose
// packed weights the weights' owner keeps; the reference fallback for shapes oneDNN refuses.
#include "cpu/onednn_common.h"

namespace vx::kern::cpu {

using namespace onednn;

std::shared_ptr<const PreparedConv> prepare_conv_f32__onednn_primitive(const ConvParams& p, const ConvPostOps& post,
                                                                       const float* wei, const float* bias,
                                                                       WeightPacks* packs) {
  try {
    const Problem pr = make_problem(p, post, false, bias != nullptr);
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                      pr.src_any, pr.wei_any, pr.bias_md, pr.dst_any, pr.strides, pr.dil, pr.pad_l,
                                      pr.pad_r);
    dnnl::convolution_forward::primitive_desc pd(d, pr.attr, engine());
    if (is_reference(pd) && (pr.src_any != pr.src_any_free || pr.dst_any != pr.dst_any_free)) {
      // oneDNN has only its reference kernel for this shape on the caller's layout (blocked16
      // with dilation above 16, say: 10-50x slower): let it choose, and reorder at the edges.
      dnnl::convolution_forward::desc free(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                           pr.src_any_free, pr.wei_any, pr.bias_md, pr.dst_any_free, pr.strides,
                                           pr.dil, pr.pad_l, pr.pad_r);
      dnnl::convolution_forward::primitive_desc pd_free(free, pr.attr, engine());
      if (!is_reference(pd_free)) pd = pd_free;
    }
    return std::make_shared<PreparedPrimitive>(p, post, false, wei, bias, pr,
                                               chosen<dnnl::convolution_forward>(pd), packs);
  } catch (const dnnl::error&) {
    return prepare_fallback(p, post, false, wei, bias, packs);
  }
}

}  // namespace vx::kern::cpu
