#include "cpu/cpu_kernels.h"

namespace vx::kern::cpu {

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
  t.prepare_conv = prepare_conv_f32__cpu;
  return t;
}

KernelTable make_avx512() {
  KernelTable t = make_cpu();
  t.name = "cpu-avx512";
  t.conv = conv_f32__avx512;
  t.conv_fused = conv_fused_f32__avx512;
  t.prepare_conv = prepare_conv_f32__avx512;
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
