#include "cpu/cpu_kernels.h"

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

void conv_f32__avx512(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst) {
  if (conv_ic1_applies(p)) return conv_f32__avx512_ic1(p, src, wei, bias, dst);
  if (conv_pointwise_applies(p)) return conv_pointwise_f32__avx512(p, ConvPostOps{}, src, wei, bias, nullptr, dst);
  conv_f32__onednn(p, src, wei, bias, dst);
}

void conv_fused_f32__avx512(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                            const float* bias, const float* residual, float* dst) {
  if (conv_ic1_applies(p)) return conv_fused_f32__avx512_ic1(p, post, src, wei, bias, residual, dst);
  if (conv_pointwise_applies(p)) return conv_pointwise_f32__avx512(p, post, src, wei, bias, residual, dst);
  conv_fused_f32__onednn(p, post, src, wei, bias, residual, dst);
}

namespace {

KernelTable make_cpu() {
  KernelTable t = ref_kernels();
  t.name = "cpu";
  t.conv = conv_f32__onednn;
  t.conv_fused = conv_fused_f32__onednn;
  t.conv_transpose = conv_transpose_f32__onednn;
  t.linear = linear_f32__eigen;
  t.pool = pool_f32__cpu;
  t.reorder = reorder_f32__onednn;
  return t;
}

KernelTable make_avx512() {
  KernelTable t = make_cpu();
  t.name = "cpu-avx512";
  t.conv = conv_f32__avx512;
  t.conv_fused = conv_fused_f32__avx512;
  t.unary = unary_f32__avx512;
  t.binary = binary_f32__avx512;
  t.channel_affine = channel_affine_f32__avx512;
  t.softmax = softmax_f32__avx512;
  t.resize = resize_f32__avx512;
  t.adaptive_pool = adaptive_pool_f32__avx512;
  return t;
}

}  // namespace

const KernelTable* cpu_kernels(Isa level) {
  if (max_isa() < level) return nullptr;
  static const KernelTable cpu = make_cpu(), avx512 = make_avx512();
  switch (level) {
    case Isa::scalar: return &cpu;
    case Isa::avx512: return &avx512;
    case Isa::avx2: return nullptr;  // no AVX2-specific kernels yet: "cpu" covers it
  }
  return nullptr;
}

}  // namespace vx::kern::cpu
