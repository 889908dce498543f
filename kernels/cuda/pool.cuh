// Max / average pooling and adaptive pooling (kernels/ref/pool_ref.cpp).
#pragma once
#include "kernel_table.h"

namespace vx::cuda {
void pool_f32__cuda_direct(const kern::PoolParams& p, const float* src, float* dst);
void adaptive_pool_f32__cuda_direct(const kern::AdaptivePoolParams& p, const float* src, float* dst);
}  // namespace vx::cuda
