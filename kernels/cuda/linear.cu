#include <climits>

#include "cuda/common.cuh"
#include "cuda/elementwise.cuh"
#include "cuda/linear.cuh"

namespace vx::cuda {

// Row-major y[m,n] is column-major y^T[n,m] = w[n,k] (w^T column-major, transposed) . x^T[k,m].
void linear_f32__cublas_gemm(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias, float* y) {
  if (m <= 0 || n <= 0) return;
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX) {
    record("linear: dimensions exceed cuBLAS's 32-bit limits");
    return;
  }
  const float one = 1.f, zero = 0.f;
  if (!ok(cublasSgemm(current()->cublas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                      static_cast<int>(k), &one, w, static_cast<int>(k), x, static_cast<int>(k), &zero, y,
                      static_cast<int>(n)),
          "linear"))
    return;
  add_bias(m, n, 1, bias, y);
}

}  // namespace vx::cuda
