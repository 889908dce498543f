// Reference backward kernels: the gradient of each forward op with respect to its DATA
// input (never its weights), as PyTorch autograd computes it. Used by Grad-CAM to carry
// d(logit)/d(activation) from a network's output back to a chosen layer.
//
// Conventions: `dy` is the gradient of the op's output, `dx` (da, db, ...) the gradient
// of its input(s), same layout as the forward kernel's src/dst. Every kernel OVERWRITES its
// outputs (no accumulation across calls); callers sum gradients of tensors read by several
// nodes themselves. Ties in max pooling go to the first maximal element in scan order, as
// PyTorch's CPU kernels (`val > max` keeps the first one).
#pragma once
#include <cstdint>

#include "kernel_table.h"

namespace vx::kern {

struct BackwardTable {
  const char* name;
  // dx[m, k] = sum_n dy[m, n] * w[n, k]   (forward: y = x . w^T + b)
  void (*linear)(int64_t m, int64_t k, int64_t n, const float* dy, const float* w, float* dx);
  // dx[n, c, i] = dy[n, c, i] * scale[c]
  void (*channel_affine)(int64_t n, int64_t c, int64_t inner, const float* scale, const float* dy, float* dx);
  // x: forward input, y: forward output (either may be used, both must be given).
  void (*unary)(Unary op, float alpha, int64_t count, const float* x, const float* y, const float* dy, float* dx);
  // da / db reduce over the axes the operand was broadcast along; either may be NULL.
  void (*binary)(Binary op, const BroadcastParams& p, const float* a, const float* b, const float* dy, float* da,
                 float* db);
  // y: the forward softmax output. dx = y * (dy - sum_c dy * y)
  void (*softmax)(int64_t outer, int64_t c, int64_t inner, const float* y, const float* dy, float* dx);
  void (*pool)(const PoolParams& p, const float* x, const float* dy, float* dx);
  void (*adaptive_pool)(const AdaptivePoolParams& p, const float* x, const float* dy, float* dx);
  void (*resize)(const ResizeParams& p, const float* dy, float* dx);
  void (*pad)(const PadParams& p, const float* dy, float* dx);
  // p describes the FORWARD op (p.in = its input); dx has p.in's extents.
  void (*conv)(const ConvParams& p, const float* dy, const float* wei, float* dx);
  void (*conv_transpose)(const ConvParams& p, const float* dy, const float* wei, float* dx);
};

const BackwardTable& ref_backward_kernels();

namespace ref {

void linear_backward(int64_t m, int64_t k, int64_t n, const float* dy, const float* w, float* dx);
void channel_affine_backward(int64_t n, int64_t c, int64_t inner, const float* scale, const float* dy, float* dx);
void unary_backward(Unary op, float alpha, int64_t count, const float* x, const float* y, const float* dy,
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

// Concat along one axis of [outer, sum(sizes), inner]: dx[i] = the i-th block of dy.
void concat_backward(int64_t outer, int64_t inner, int count, const int64_t* sizes, const float* dy, float** dx);
// Slice of [outer, in_len, inner] along the middle axis (elements start, start+step, ...;
// out_len of them; step may be negative): dx is zero except at the taken positions.
void slice_backward(int64_t outer, int64_t in_len, int64_t inner, int64_t start, int64_t step, int64_t out_len,
                    const float* dy, float* dx);
// Pass-through (identity, dropout at inference, flatten, reshape, squeeze): dx = dy.
void copy_backward(int64_t count, const float* dy, float* dx);

}  // namespace ref
}  // namespace vx::kern
