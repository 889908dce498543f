// Reference elementwise activations and math (params.h Activation) and their gradients, as
// ONNX defines the forward ops and PyTorch autograd the backward ones, in float with the
// std:: functions (the fast paths are held to a few ulp of these).
#include <algorithm>
#include <cmath>

#include "ref/backward_ref.h"
#include "ref/ref_kernels.h"

namespace vx::kern::ref {

namespace {

constexpr float kSqrtHalf = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;  // 1 / sqrt(2 pi)
constexpr float kTwoOverSqrtPi = 1.12837916709551257f;
constexpr float kSoftplusThreshold = 20.f;  // PyTorch's: above it softplus(x) = x

// The exponent's special cases first, as PyTorch's pow does (x^2 = x * x exactly).
float pow_ref(float x, float e) {
  if (e == 2.f) return x * x;
  if (e == 0.5f) return std::sqrt(x);
  if (e == 1.f) return x;
  return std::pow(x, e);
}

// min(1, max(0, t)) with NaN passing through (as the vector min/max with the bound first)
float clamp01(float t) { return t < 0.f ? 0.f : (t > 1.f ? 1.f : t); }

float forward(const ActivationParams& p, float x) {
  switch (p.op) {
    case Activation::elu: return x > 0.f ? x : p.a * std::expm1(x);
    case Activation::selu: return p.b * (x > 0.f ? x : p.a * std::expm1(x));
    case Activation::hard_sigmoid: return clamp01(p.a * x + p.b);
    case Activation::hard_swish: return x * clamp01(p.a * x + p.b);
    case Activation::softplus: return x > kSoftplusThreshold ? x : std::log1p(std::exp(x));
    case Activation::erf: return std::erf(x);
    case Activation::gelu: return 0.5f * x * (1.f + std::erf(x * kSqrtHalf));
    case Activation::clip: return std::min(std::max(x, p.a), p.b);
    case Activation::exp: return std::exp(x);
    case Activation::log: return std::log(x);
    case Activation::sqrt: return std::sqrt(x);
    case Activation::neg: return -x;
    case Activation::abs: return std::fabs(x);
    case Activation::pow: return pow_ref(x, p.a);
  }
  return x;
}

// d forward / dx at x (y = forward(x)) times dy.
float backward(const ActivationParams& p, float x, float y, float dy) {
  switch (p.op) {
    case Activation::elu: return x > 0.f ? dy : dy * p.a * std::exp(x);
    case Activation::selu: return x > 0.f ? dy * p.b : dy * p.b * p.a * std::exp(x);
    case Activation::hard_sigmoid: {
      const float t = p.a * x + p.b;
      return t > 0.f && t < 1.f ? dy * p.a : 0.f;
    }
    case Activation::hard_swish: {  // PyTorch: 0 below -3, x/3 + 1/2 up to 3 (inclusive), 1 above
      const float t = p.a * x + p.b;
      if (t < 0.f) return 0.f;
      if (t > 1.f) return dy;
      return dy * (2.f * p.a * x + p.b);
    }
    case Activation::softplus: return x > kSoftplusThreshold ? dy : dy / (1.f + std::exp(-x));
    case Activation::erf: return dy * kTwoOverSqrtPi * std::exp(-x * x);
    case Activation::gelu:
      return dy * (0.5f * (1.f + std::erf(x * kSqrtHalf)) + x * kInvSqrt2Pi * std::exp(-0.5f * x * x));
    case Activation::clip: return x >= p.a && x <= p.b ? dy : 0.f;  // PyTorch's clamp: bounds inclusive
    case Activation::exp: return dy * y;
    case Activation::log: return dy / x;
    case Activation::sqrt: return dy / (2.f * y);
    case Activation::neg: return -dy;
    case Activation::abs: return x > 0.f ? dy : (x < 0.f ? -dy : 0.f);
    case Activation::pow:
      if (p.a == 0.f) return 0.f;
      if (p.a == 2.f) return dy * 2.f * x;
      return dy * p.a * pow_ref(x, p.a - 1.f);
  }
  return dy;
}

}  // namespace

void activation_f32__scalar_ref(const ActivationParams& p, int64_t count, const float* src, float* dst) {
  for (int64_t i = 0; i < count; ++i) dst[i] = forward(p, src[i]);
}

void activation_backward(const ActivationParams& p, int64_t count, const float* x, const float* y, const float* dy,
                         float* dx) {
  for (int64_t i = 0; i < count; ++i) dx[i] = backward(p, x[i], y[i], dy[i]);
}

}  // namespace vx::kern::ref
