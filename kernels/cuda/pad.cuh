// Pad / crop of the three spatial axes (kernels/ref/pad_ref.cpp).
#pragma once
#include "kernel_table.h"

namespace vx::cuda {
void pad_f32__cuda_direct(const kern::PadParams& p, const float* src, float* dst);
}
