// y[m, n] = x[m, k] . w[n, k] + bias[n] through cuBLAS SGEMM, pedantic math (no TF32).
#pragma once
#include "kernel_table.h"

namespace vx::cuda {
void linear_f32__cublas_gemm(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias, float* y);
}
