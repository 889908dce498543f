#include "ref/ref_kernels.h"

namespace vx::kern {

const KernelTable& ref_kernels() {
  static const KernelTable table = {
      "ref",          ref::conv,          ref::conv_transpose, ref::channel_affine, ref::unary, ref::binary,
      ref::softmax,   ref::pool,          ref::adaptive_pool,  ref::resize,         ref::linear, ref::pad,
  };
  return table;
}

}  // namespace vx::kern
