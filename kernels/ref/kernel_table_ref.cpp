#include "ref/backward_ref.h"
#include "ref/ref_kernels.h"
#include "ref/view_ref.h"

namespace vx::kern {
namespace {

KernelTable make_ref() {
  KernelTable t = {
      "ref",
      ref::conv_f32__scalar_direct,
      ref::conv_transpose_f32__scalar_direct,
      ref::channel_affine_f32__scalar_ref,
      ref::unary_f32__scalar_ref,
      ref::binary_f32__scalar_ref,
      ref::softmax_f32__scalar_ref,
      ref::pool_f32__scalar_ref,
      ref::adaptive_pool_f32__scalar_ref,
      ref::resize_f32__scalar_ref,
      ref::linear_f32__scalar_ref,
      ref::pad_f32__scalar_ref,
  };
  // issue 18 (norms)
  t.group_norm = ref::group_norm_f32__scalar_ref;
  t.prelu = ref::prelu_f32__scalar_ref;
  t.group_norm_backward = ref::group_norm_backward;
  t.prelu_backward = ref::prelu_backward;
  // Backward entries: every table built from this one inherits them (kernel_table.h).
  t.linear_backward = ref::linear_backward;
  t.channel_affine_backward = ref::channel_affine_backward;
  t.unary_backward = ref::unary_backward;
  t.binary_backward = ref::binary_backward;
  t.softmax_backward = ref::softmax_backward;
  t.pool_backward = ref::pool_backward;
  t.adaptive_pool_backward = ref::adaptive_pool_backward;
  t.resize_backward = ref::resize_backward;
  t.pad_backward = ref::pad_backward;
  t.conv_backward = ref::conv_backward_data;
  t.conv_transpose_backward = ref::conv_transpose_backward_data;
  t.concat_backward = ref::concat_backward;
  t.slice_backward = ref::slice_backward;
  t.copy_backward = ref::copy_backward;
  t.activation = ref::activation_f32__scalar_ref;
  t.activation_backward = ref::activation_backward;
  // reductions and layer norm (issue 18)
  t.reduce = ref::reduce_f32__scalar_ref;
  t.reduce_backward = ref::reduce_backward;
  t.layer_norm = ref::layer_norm_f32__scalar_ref;
  t.layer_norm_backward = ref::layer_norm_backward;
  t.log_softmax = ref::log_softmax_f32__scalar_ref;
  t.log_softmax_backward = ref::log_softmax_backward;
  // view ops (issue 18)
  t.view_copy = ref::view_copy_f32__scalar_ref;
  t.view_copy_backward = ref::view_copy_backward;
  t.select = ref::select_f32__scalar_ref;
  t.select_backward = ref::select_backward;
  return t;
}

}  // namespace

const KernelTable& ref_kernels() {
  static const KernelTable table = make_ref();
  return table;
}

}  // namespace vx::kern
