// Reference Reduce* kernels (issue 18), forward and backward: one walk over the input in
// C order, each element mapped to its output by strides that are 0 along reduced axes;
// accumulation in double. The oracle the fast kernels (kernels/cpu/reduce_avx512.cpp) and
// the Grad-CAM rules are tested against.
#include <cmath>
#include <limits>
#include <vector>

#include "ref/backward_ref.h"
#include "ref/ref_kernels.h"

namespace vx::kern::ref {
namespace {

int64_t numel_of(const ReduceParams& p) {
  int64_t n = 1;
  for (int i = 0; i < p.rank; ++i) n *= p.shape[i];
  return n;
}

int64_t out_count(const ReduceParams& p) {
  int64_t n = 1;
  for (int i = 0; i < p.rank; ++i) n *= p.reduced[i] ? 1 : p.shape[i];
  return n;
}

// Calls f(src_index, dst_index) for every input element in C order.
template <class F>
void walk(const ReduceParams& p, F f) {
  int64_t dstride[kMaxReduceRank] = {}, idx[kMaxReduceRank] = {};
  int64_t s = 1;
  for (int i = p.rank - 1; i >= 0; --i) {
    dstride[i] = p.reduced[i] ? 0 : s;
    s *= p.reduced[i] ? 1 : p.shape[i];
  }
  const int64_t n = numel_of(p);
  int64_t d = 0;
  for (int64_t k = 0; k < n; ++k) {
    f(k, d);
    for (int i = p.rank - 1; i >= 0; --i) {  // odometer step
      d += dstride[i];
      if (++idx[i] < p.shape[i]) break;
      d -= dstride[i] * p.shape[i];
      idx[i] = 0;
    }
  }
}

// Elements reduced into each output (the same for all).
double group_size(const ReduceParams& p) { return static_cast<double>(numel_of(p)) / std::max<int64_t>(1, out_count(p)); }

}  // namespace

void reduce_f32__scalar_ref(const ReduceParams& p, const float* src, float* dst) {
  const size_t outs = static_cast<size_t>(out_count(p));
  const double inf = std::numeric_limits<double>::infinity();
  const bool extreme = p.op == Reduce::max || p.op == Reduce::min || p.op == Reduce::log_sum_exp;
  std::vector<double> acc(outs, p.op == Reduce::prod ? 1.0 : 0.0), top(outs, p.op == Reduce::min ? inf : -inf);
  if (extreme)  // max, min, and the shift of log_sum_exp; NaN wins, as in torch.amax
    walk(p, [&](int64_t i, int64_t j) {
      const double x = src[i];
      if (std::isnan(top[j])) return;
      if (std::isnan(x) || (p.op == Reduce::min ? x < top[j] : x > top[j])) top[j] = x;
    });
  walk(p, [&](int64_t i, int64_t j) {
    const double x = src[i];
    switch (p.op) {
      case Reduce::sum:
      case Reduce::mean:
      case Reduce::log_sum: acc[j] += x; break;
      case Reduce::prod: acc[j] *= x; break;
      case Reduce::l1: acc[j] += std::fabs(x); break;
      case Reduce::l2:
      case Reduce::sum_square: acc[j] += x * x; break;
      case Reduce::log_sum_exp:
        if (std::isfinite(top[j])) acc[j] += std::exp(x - top[j]);
        break;
      case Reduce::max:
      case Reduce::min: break;
    }
  });
  const double count = group_size(p);
  for (size_t j = 0; j < outs; ++j) {
    double v = acc[j];
    switch (p.op) {
      case Reduce::mean: v /= count; break;
      case Reduce::l2: v = std::sqrt(v); break;
      case Reduce::log_sum: v = std::log(v); break;
      case Reduce::log_sum_exp: v = std::isfinite(top[j]) ? top[j] + std::log(v) : top[j]; break;
      case Reduce::max:
      case Reduce::min: v = top[j]; break;
      default: break;
    }
    dst[j] = static_cast<float>(v);
  }
}

// As torch autograd: amax / amin split the gradient equally among the inputs equal to the
// result; prod takes the product of the others (exact when inputs are zero); l2 and l1 give
// 0 where the norm or the input is 0.
void reduce_backward(const ReduceParams& p, const float* x, const float* y, const float* dy, float* dx) {
  const size_t outs = static_cast<size_t>(out_count(p));
  const double count = group_size(p);
  switch (p.op) {
    case Reduce::max:
    case Reduce::min: {
      std::vector<double> ties(outs, 0.0);
      walk(p, [&](int64_t i, int64_t j) { ties[j] += x[i] == y[j]; });
      walk(p, [&](int64_t i, int64_t j) { dx[i] = x[i] == y[j] ? static_cast<float>(dy[j] / ties[j]) : 0.f; });
      return;
    }
    case Reduce::prod: {
      std::vector<double> others(outs, 1.0);  // product of the nonzero inputs
      std::vector<int64_t> zeros(outs, 0);
      walk(p, [&](int64_t i, int64_t j) {
        if (x[i] == 0.f) ++zeros[j];
        else others[j] *= x[i];
      });
      walk(p, [&](int64_t i, int64_t j) {
        double g = 0;
        if (zeros[j] == 0) g = others[j] / x[i];
        else if (zeros[j] == 1 && x[i] == 0.f) g = others[j];
        dx[i] = static_cast<float>(dy[j] * g);
      });
      return;
    }
    default: break;
  }
  walk(p, [&](int64_t i, int64_t j) {
    const double g = dy[j], xi = x[i];
    double d = 0;
    switch (p.op) {
      case Reduce::sum: d = g; break;
      case Reduce::mean: d = g / count; break;
      case Reduce::l1: d = xi > 0 ? g : xi < 0 ? -g : 0.0; break;
      case Reduce::l2: d = y[j] == 0.f ? 0.0 : g * xi / y[j]; break;
      case Reduce::sum_square: d = 2 * g * xi; break;
      case Reduce::log_sum: d = g / std::exp(static_cast<double>(y[j])); break;
      case Reduce::log_sum_exp: d = g * std::exp(xi - y[j]); break;
      default: break;
    }
    dx[i] = static_cast<float>(d);
  });
}

}  // namespace vx::kern::ref
