// Convolution and transposed convolution, 2-D and 3-D (2-D = depth 1), groups, dilation,
// padding (kernels/ref/conv_ref.cpp, conv_transpose_ref.cpp). cuDNN with CUDNN_FMA_MATH
// (never TF32); a direct kernel serves shapes cuDNN's symmetric padding cannot express.
// Plans (descriptors + algorithm) are cached per context and shape.
#pragma once
#include "kernel_table.h"

struct vx_cuda_context;

namespace vx::cuda {
void route_conv_cuda(const kern::ConvParams& p, const float* src, const float* wei, const float* bias, float* dst);
void route_conv_transpose_cuda(const kern::ConvParams& p, const float* src, const float* wei, const float* bias, float* dst);
void release_conv_plans(vx_cuda_context* ctx);
}  // namespace vx::cuda
