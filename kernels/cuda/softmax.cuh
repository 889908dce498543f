// Softmax over the middle axis of [outer, c, inner] (kernels/ref/channel_ref.cpp).
#pragma once
#include "kernel_table.h"

namespace vx::cuda {
void softmax_f32__cuda_direct(int64_t outer, int64_t c, int64_t inner, const float* src, float* dst);
}
