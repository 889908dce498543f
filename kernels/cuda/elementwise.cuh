// Elementwise kernels (semantics of kernels/ref/elementwise_ref.cpp and channel_ref.cpp).
#pragma once
#include "kernel_table.h"

namespace vx::cuda {
void unary_f32__cuda_direct(kern::Unary op, float alpha, int64_t count, const float* src, float* dst);
void binary_f32__cuda_direct(kern::Binary op, const kern::BroadcastParams& p, const float* a, const float* b, float* dst);
void channel_affine_f32__cuda_direct(int64_t n, int64_t c, int64_t inner, const float* scale, const float* shift, const float* src,
                    float* dst);
void copy_f32__cuda_direct(const kern::CopyParams& p, const float* src, float* dst);
// dst[o, ch, i] += bias[ch] over [outer, c, inner] (conv and linear bias).
void add_bias(int64_t outer, int64_t c, int64_t inner, const float* bias, float* dst);
}  // namespace vx::cuda
