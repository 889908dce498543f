#include "ref/ref_kernels.h"

namespace vx::kern {

const KernelTable& ref_kernels() {
  static const KernelTable table = {
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
  return table;
}

}  // namespace vx::kern
