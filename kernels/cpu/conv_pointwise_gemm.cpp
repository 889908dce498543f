// A pointwise conv from blocked16 to plain (a U-Net's few-class head): one GEMM per block of
// 16 input channels, accumulating, straight into the caller's plain dst. oneDNN would need a
// channel-padded blocked dst (16/oc times the output) or a reordered src. Nothing is packed.
#include <cmath>

#include "cpu/onednn_common.h"

namespace vx::kern::cpu {

bool conv_pointwise_gemm_applies(const ConvParams& p, const ConvPostOps& post) {
  bool pw = p.groups == 1 && !post.has_residual && p.src_layout == Layout::blocked16 && p.dst_layout == Layout::plain &&
            p.oc % 16 != 0;
  for (int i = 0; i < 3; ++i) pw = pw && p.k[i] == 1 && p.stride[i] == 1 && p.pad[i] == 0;
  return pw;
}

void conv_fused_f32__onednn_gemm_pointwise(const ConvParams& p, const ConvPostOps& post, const float* src,
                                           const float* wei, const float* bias, const float*, float* dst) {
  onednn::engine();  // applies the ISA cap before oneDNN's first use
  const int64_t S = p.in[0] * p.in[1] * p.in[2], icb = p.ic / 16;
  for (int64_t n = 0; n < p.n; ++n) {
    float* d = dst + n * p.oc * S;
    for (int64_t b = 0; b < icb; ++b)
      dnnl::sgemm('N', 'T', p.oc, S, 16, 1.f, wei + b * 16, p.ic, src + (n * icb + b) * S * 16, 16, b ? 1.f : 0.f, d, S);
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < p.oc; ++o)
      for (int64_t i = 0; i < S; ++i) {
        float v = d[o * S + i] + (bias ? bias[o] : 0.f);
        switch (post.act) {
          case Unary::relu: v = v > 0.f ? v : 0.f; break;
          case Unary::leaky_relu: v = v > 0.f ? v : post.alpha * v; break;
          case Unary::sigmoid: v = 1.f / (1.f + std::exp(-v)); break;
          case Unary::tanh: v = std::tanh(v); break;
          case Unary::identity: break;
        }
        d[o * S + i] = v;
      }
  }
}

}  // namespace vx::kern::cpu
