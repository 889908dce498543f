// Parameters of the reduction and layer-normalisation kernels (issue 18). Kept apart from
// params.h so these ops can change without touching every kernel's header.
#pragma once
#include <cstdint>

namespace vx::kern {

// ONNX Reduce* ops: dst[j] = f over the input elements that map to j, where the reduced
// axes collapse to extent 1 (keepdims or not, the bytes are the same).
//   sum, mean, max, min, prod; l1 = sum |x|; l2 = sqrt(sum x^2); sum_square = sum x^2;
//   log_sum = log(sum x); log_sum_exp = log(sum exp x) (computed around the max).
// A reduction over no element (an axis of extent 0) is refused by the op, never reaches a kernel.
enum class Reduce { sum, mean, max, min, prod, l1, l2, sum_square, log_sum, log_sum_exp };
inline constexpr int kMaxReduceRank = 8;
struct ReduceParams {
  Reduce op = Reduce::sum;
  int rank = 0;                          // 0..kMaxReduceRank
  int64_t shape[kMaxReduceRank] = {};    // the input's extents
  bool reduced[kMaxReduceRank] = {};     // axes that collapse to 1 in dst
};

// LayerNormalization over rows: src is [outer, inner] and each row of `inner` values is
// normalised by its own mean and biased variance, y = xhat * scale[i] + bias[i] (scale and
// bias hold `inner` values; NULL: 1 and 0).
struct LayerNormParams {
  int64_t outer = 1, inner = 0;
  double eps = 1e-5;
};

}  // namespace vx::kern
