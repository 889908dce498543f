// Transposed convolution through oneDNN's deconvolution: a prepared primitive
// (onednn_primitive.cpp); the reference fallback for shapes oneDNN refuses.
#include "cpu/onednn_common.h"

namespace vx::kern::cpu {

using namespace onednn;

std::shared_ptr<const PreparedConv> prepare_conv_transpose_f32__onednn_deconv(const ConvParams& p, const float* wei,
                                                                              const float* bias, WeightPacks* packs) {
  const ConvPostOps none;
  try {
    const Problem pr = make_problem(p, none, true, bias != nullptr);
    dnnl::deconvolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct,
                                        pr.src_any, pr.wei_any, pr.bias_md, pr.dst_any, pr.strides, pr.dil, pr.pad_l,
                                        pr.pad_r);
    dnnl::deconvolution_forward::primitive_desc pd(d, pr.attr, engine());
    return std::make_shared<PreparedPrimitive>(p, none, true, wei, bias, pr, chosen<dnnl::deconvolution_forward>(pd),
                                               packs);
  } catch (const dnnl::error&) {
    return prepare_fallback(p, none, true, wei, bias, packs);
  }
}

}  // namespace vx::kern::cpu
