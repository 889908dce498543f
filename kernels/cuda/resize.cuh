// Nearest / (bi,tri)linear resize (kernels/ref/resize_ref.cpp), the same float and double
// arithmetic per tap so indices agree with the reference exactly.
#pragma once
#include "kernel_table.h"

namespace vx::cuda {
void resize_f32__cuda_direct(const kern::ResizeParams& p, const float* src, float* dst);
}
