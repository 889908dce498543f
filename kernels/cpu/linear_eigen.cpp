// Linear layers through Eigen's GEMM. Compiled with the project's default flags on purpose:
// Eigen's templates are instantiated here, and instantiating them with AVX-512 flags in one
// file and without in another would let the linker pick either copy (an ODR trap).
#include <Eigen/Core>

#include "cpu/cpu_kernels.h"

namespace vx::kern::cpu {

void linear_f32__eigen_gemm(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias,
                            float* y) {
  using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const RowMat> X(x, m, k), W(w, n, k);
  Eigen::Map<RowMat> Y(y, m, n);
  // Eigen's blocking depends on its thread count, so a deterministic run uses one thread
  // (these layers are a few MFLOP in the networks we run).
  const int saved = Eigen::nbThreads();
  if (deterministic()) Eigen::setNbThreads(1);
  Y.noalias() = X * W.transpose();
  if (deterministic()) Eigen::setNbThreads(saved);
  if (bias)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) y[i * n + j] += bias[j];
}

}  // namespace vx::kern::cpu
