// Reference backward kernels: the gradient of each forward op with respect to its DATA
// input (never its weights), as PyTorch autograd computes it. They are the reference
// table's *_backward entries (kernel_table.h states each one's contract); Grad-CAM reaches
// them only through a KernelTable, so this header is for kernels/ and their tests.
//
// Every kernel OVERWRITES its outputs (no accumulation across calls); callers sum gradients
// of tensors read by several nodes themselves. Ties in max pooling go to the first maximal
// element in scan order, as PyTorch's CPU kernels (`val > max` keeps the first one).
#pragma once
#include <cstdint>

#include "kernel_table.h"

namespace vx::kern::ref {

void linear_backward(int64_t m, int64_t k, int64_t n, const float* dy, const float* w, float* dx);
void channel_affine_backward(int64_t n, int64_t c, int64_t inner, const float* scale, const float* dy, float* dx);
void unary_backward(Unary op, float alpha, int64_t count, const float* x, const float* y, const float* dy,
                    float* dx);
void activation_backward(const ActivationParams& p, int64_t count, const float* x, const float* y, const float* dy,
                         float* dx);
void binary_backward(Binary op, const BroadcastParams& p, const float* a, const float* b, const float* dy, float* da,
                     float* db);
void softmax_backward(int64_t outer, int64_t c, int64_t inner, const float* y, const float* dy, float* dx);
void pool_backward(const PoolParams& p, const float* x, const float* dy, float* dx);
void adaptive_pool_backward(const AdaptivePoolParams& p, const float* x, const float* dy, float* dx);
void resize_backward(const ResizeParams& p, const float* dy, float* dx);
void pad_backward(const PadParams& p, const float* dy, float* dx);
void conv_backward_data(const ConvParams& p, const float* dy, const float* wei, float* dx);
void conv_transpose_backward_data(const ConvParams& p, const float* dy, const float* wei, float* dx);
// issue 18 (norms): norm_ref.cpp
void group_norm_backward(const NormParams& p, const float* x, const float* scale, const float* bias, const float* dy,
                         float* dx);
void prelu_backward(int64_t n, int64_t c, int64_t inner, const float* slope, int64_t slope_count, const float* x,
                    const float* dy, float* dx);
// reductions and layer norm (issue 18): reduce_ref.cpp, layer_norm_ref.cpp
void reduce_backward(const ReduceParams& p, const float* x, const float* y, const float* dy, float* dx);
void layer_norm_backward(const LayerNormParams& p, const float* x, const float* scale, const float* dy, float* dx);
void log_softmax_backward(int64_t outer, int64_t c, int64_t inner, const float* y, const float* dy, float* dx);

// Concat along one axis of [outer, sum(sizes), inner]: dx[i] = the i-th block of dy.
void concat_backward(int64_t outer, int64_t inner, int count, const int64_t* sizes, const float* dy, float** dx);
// Slice of [outer, in_len, inner] along the middle axis (elements start, start+step, ...;
// out_len of them; step may be negative): dx is zero except at the taken positions.
void slice_backward(int64_t outer, int64_t in_len, int64_t inner, int64_t start, int64_t step, int64_t out_len,
                    const float* dy, float* dx);
// Pass-through (identity, dropout at inference, flatten, reshape, squeeze): dx = dy.
void copy_backward(int64_t count, const float* dy, float* dx);

}  // namespace vx::kern::ref
