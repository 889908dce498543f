// Max / average pooling and adaptive pooling (kernels/ref/pool_ref.cpp).
#pragma once
#include "kernel_table.h"

namespace vx::cuda {
void pool(const kern::PoolParams& p, const float* src, float* dst);
void adaptive_pool(const kern::AdaptivePoolParams& p, const float* src, float* dst);
}  // namespace vx::cuda
