// Which convolution kernel runs a problem, for the "cpu" and "cpu-avx512" tables: the
// routers, their one-shot forms (the tables' plain conv entries) and the applies-tests of
// the direct AVX-512 kernels (plain C++, callable on any CPU).
#include "cpu/cpu_kernels.h"
#include "cpu/onednn_common.h"

namespace vx::kern::cpu {

bool conv_ic1_applies(const ConvParams& p) {
  return p.src_layout == Layout::plain && p.dst_layout == Layout::plain && p.ic == 1 && p.groups == 1 && p.stride[2] == 1 && p.dil[0] == 1 && p.dil[1] == 1 && p.dil[2] == 1 &&
         p.k[0] * p.k[1] * p.k[2] <= 125 && p.out[2] >= 16;
}

bool conv_pointwise_applies(const ConvParams& p) {
  bool unit = p.groups == 1 && p.src_layout == Layout::blocked16 && p.dst_layout == Layout::blocked16 &&
              p.ic % 16 == 0 && p.oc % 16 == 0;
  for (int i = 0; i < 3; ++i) unit = unit && p.k[i] == 1 && p.stride[i] == 1 && p.pad[i] == 0 && p.out[i] == p.in[i];
  // Below a few MB of input oneDNN's kernel, whose re-reads then hit the cache, is as fast or faster.
  const double src_bytes = 4.0 * static_cast<double>(p.n * p.ic) * static_cast<double>(p.in[0] * p.in[1] * p.in[2]);
  return unit && src_bytes >= 8.0 * (1 << 20);
}

std::shared_ptr<const PreparedConv> route_conv_cpu(const ConvParams& p, const ConvPostOps& post, bool transpose,
                                                   const float* wei, const float* bias, WeightPacks* packs) {
  if (transpose) {
    if (conv_transpose_gemm_d2s_applies(p)) return prepare_conv_transpose_f32__onednn_gemm_d2s(p, wei, bias, packs);
    return prepare_conv_transpose_f32__onednn_deconv(p, wei, bias, packs);
  }
  if (conv_pointwise_gemm_applies(p, post)) return bind_conv(conv_fused_f32__onednn_gemm_pointwise, p, post, wei, bias);
  return prepare_conv_f32__onednn_primitive(p, post, wei, bias, packs);
}

std::shared_ptr<const PreparedConv> route_conv_avx512(const ConvParams& p, const ConvPostOps& post, bool transpose,
                                                      const float* wei, const float* bias, WeightPacks* packs) {
  if (!transpose && conv_ic1_applies(p)) return bind_conv(conv_fused_f32__avx512_ic1, p, post, wei, bias);
  if (!transpose && conv_pointwise_applies(p)) return bind_conv(conv_fused_f32__avx512_pointwise, p, post, wei, bias);
  return route_conv_cpu(p, post, transpose, wei, bias, packs);
}

void route_conv_cpu_once(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst) {
  route_conv_cpu(p, ConvPostOps{}, false, wei, bias, nullptr)->run(src, nullptr, dst);
}

void route_conv_fused_cpu_once(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                               const float* bias, const float* residual, float* dst) {
  route_conv_cpu(p, post, false, wei, bias, nullptr)->run(src, residual, dst);
}

void route_conv_transpose_cpu_once(const ConvParams& p, const float* src, const float* wei, const float* bias,
                                   float* dst) {
  route_conv_cpu(p, ConvPostOps{}, true, wei, bias, nullptr)->run(src, nullptr, dst);
}

void conv_transpose_f32__onednn_deconv(const ConvParams& p, const float* src, const float* wei, const float* bias,
                                       float* dst) {
  prepare_conv_transpose_f32__onednn_deconv(p, wei, bias, nullptr)->run(src, nullptr, dst);
}

void conv_transpose_f32__onednn_gemm_d2s(const ConvParams& p, const float* src, const float* wei, const float* bias,
                                         float* dst) {
  prepare_conv_transpose_f32__onednn_gemm_d2s(p, wei, bias, nullptr)->run(src, nullptr, dst);
}

void route_conv_avx512_once(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst) {
  route_conv_avx512(p, ConvPostOps{}, false, wei, bias, nullptr)->run(src, nullptr, dst);
}

void route_conv_fused_avx512_once(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                                  const float* bias, const float* residual, float* dst) {
  route_conv_avx512(p, post, false, wei, bias, nullptr)->run(src, residual, dst);
}

}  // namespace vx::kern::cpu
