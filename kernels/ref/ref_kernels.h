// The scalar reference kernels, one file each. Plain loops in the order the maths is
// written; the oracle for every fast path. Parallel loops only split independent outputs,
// so results never depend on the thread count. Names: <op>_f32__scalar_<variant> (direct:
// the convolution sum written out; ref: the op's definition as a loop).
#pragma once
#include "kernel_table.h"

namespace vx::kern::ref {

void conv_f32__scalar_direct(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst);
void conv_transpose_f32__scalar_direct(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst);
void channel_affine_f32__scalar_ref(int64_t n, int64_t c, int64_t inner, const float* scale, const float* shift, const float* src,
                    float* dst);
void unary_f32__scalar_ref(Unary op, float alpha, int64_t count, const float* src, float* dst);
void binary_f32__scalar_ref(Binary op, const BroadcastParams& p, const float* a, const float* b, float* dst);
void softmax_f32__scalar_ref(int64_t outer, int64_t c, int64_t inner, const float* src, float* dst);
void pool_f32__scalar_ref(const PoolParams& p, const float* src, float* dst);
void adaptive_pool_f32__scalar_ref(const AdaptivePoolParams& p, const float* src, float* dst);
void resize_f32__scalar_ref(const ResizeParams& p, const float* src, float* dst);
void linear_f32__scalar_ref(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias, float* y);
void activation_f32__scalar_ref(const ActivationParams& p, int64_t count, const float* src, float* dst);
void pad_f32__scalar_ref(const PadParams& p, const float* src, float* dst);
// issue 18 (norms): norm_ref.cpp
void group_norm_f32__scalar_ref(const NormParams& p, const float* src, const float* scale, const float* bias,
                                float* dst);
void prelu_f32__scalar_ref(int64_t n, int64_t c, int64_t inner, const float* slope, int64_t slope_count,
                           const float* src, float* dst);
// reductions and layer norm (issue 18): reduce_ref.cpp, layer_norm_ref.cpp
void reduce_f32__scalar_ref(const ReduceParams& p, const float* src, float* dst);
void layer_norm_f32__scalar_ref(const LayerNormParams& p, const float* src, const float* scale, const float* bias,
                                float* dst, float* mean, float* inv_std);
void log_softmax_f32__scalar_ref(int64_t outer, int64_t c, int64_t inner, const float* src, float* dst);
// The input index output index o of a padded axis copies, or -1 for the constant (used by
// pad and by its backward pass).
int64_t pad_source_index(int64_t o, int64_t begin, int64_t in, PadMode mode);

}  // namespace vx::kern::ref
