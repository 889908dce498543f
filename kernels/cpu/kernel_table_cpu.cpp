#include "cpu/cpu_kernels.h"
#include "cpu/view_cpu.h"

namespace vx::kern::cpu {

namespace {

KernelTable make_cpu() {
  KernelTable t = ref_kernels();
  t.name = "cpu";
  t.conv = route_conv_cpu_once;
  t.conv_fused = route_conv_fused_cpu_once;
  t.conv_transpose = route_conv_transpose_cpu_once;
  t.linear = linear_f32__eigen_gemm;
  t.pool = route_pool_cpu;
  t.reorder = reorder_f32__onednn_blocked16;
  t.prepare_conv = route_conv_cpu;
  t.view_copy = view_copy_f32__cpu_blocked;  // view ops (issue 18)
  return t;
}

KernelTable make_avx512() {
  KernelTable t = make_cpu();
  t.name = "cpu-avx512";
  t.conv = route_conv_avx512_once;
  t.conv_fused = route_conv_fused_avx512_once;
  t.prepare_conv = route_conv_avx512;
  t.unary = unary_f32__avx512_u16;
  t.binary = binary_f32__avx512_u16;
  t.activation = activation_f32__avx512_u16;
  t.channel_affine = channel_affine_f32__avx512_u16;
  t.softmax = softmax_f32__avx512_u16;
  t.resize = resize_f32__avx512_u16;
  t.adaptive_pool = adaptive_pool_f32__avx512_u16;
  t.group_norm = group_norm_f32__avx512_u16;  // issue 18 (norms)
  t.prelu = prelu_f32__avx512_u16;
  // reductions and layer norm (issue 18)
  t.reduce = reduce_f32__avx512_u16;
  t.layer_norm = layer_norm_f32__avx512_u16;
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
