// The `activation` entries (params.h Activation; kernels/ref/activation_ref.cpp and
// kernels/cpu/activation_avx512.cpp) on every kernel table, reference included, against a
// double-precision oracle written from the definitions here; the fast tables also against
// the reference. Tolerances:
//   forward:  |d| <= 4 ulp(want) + c max(1, |x|), c = 2e-7 where the float formula cancels
//             (gelu's negative tail, a x + b near 0 in the hard activations), else c = 0
//   fast vs reference: the same bound (a few ulp of the std:: functions)
//   backward: against a central difference of the oracle (h = 1e-4 in double, points within
//             1e-2 of a kink left out): |d| <= 1e-5 max(1, |want|)
// Inputs: uniform in each op's domain plus hand-picked edge values (0, +-tiny, thresholds).
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "common/random_data.h"
#include "kernel_table.h"

using namespace vx::kern;

namespace {

struct OpCase {
  const char* name;
  ActivationParams p;
  float lo, hi;               // input range
  std::vector<double> kinks;  // points where the derivative jumps
  double cancel = 0;          // c above
};

std::vector<OpCase> op_cases() {
  auto P = [](Activation op, float a = 0.f, float b = 0.f) {
    ActivationParams p;
    p.op = op, p.a = a, p.b = b;
    return p;
  };
  return {
      {"elu", P(Activation::elu, 1.f), -20.f, 20.f, {0}},
      {"elu_0.3", P(Activation::elu, 0.3f), -20.f, 20.f, {0}},
      {"selu", P(Activation::selu, 1.6732632f, 1.0507010f), -20.f, 20.f, {0}},
      {"hard_sigmoid", P(Activation::hard_sigmoid, 0.2f, 0.5f), -6.f, 6.f, {-2.5, 2.5}, 2e-7},
      {"hard_swish", P(Activation::hard_swish, 1.f / 6.f, 0.5f), -6.f, 6.f, {-3, 3}, 2e-7},
      {"softplus", P(Activation::softplus), -30.f, 30.f, {20}},
      {"erf", P(Activation::erf), -5.f, 5.f, {}},
      {"gelu", P(Activation::gelu), -8.f, 8.f, {}, 2e-7},
      {"clip", P(Activation::clip, -1.f, 2.5f), -4.f, 4.f, {-1, 2.5}},
      {"exp", P(Activation::exp), -80.f, 80.f, {}},
      {"log", P(Activation::log), 1e-30f, 1e30f, {}},
      {"log_near_1", P(Activation::log), 0.5f, 2.f, {}},
      {"sqrt", P(Activation::sqrt), 0.f, 1e6f, {0}},
      {"neg", P(Activation::neg), -10.f, 10.f, {}},
      {"abs", P(Activation::abs), -10.f, 10.f, {0}},
      {"pow_2", P(Activation::pow, 2.f), -100.f, 100.f, {}},
      {"pow_0.5", P(Activation::pow, 0.5f), 0.f, 100.f, {0}},
      {"pow_3", P(Activation::pow, 3.f), -10.f, 10.f, {}},
      {"pow_1.7", P(Activation::pow, 1.7f), 0.f, 10.f, {0}},
  };
}

double oracle(const ActivationParams& p, double x) {
  const double a = p.a, b = p.b;
  switch (p.op) {
    case Activation::elu: return x > 0 ? x : a * std::expm1(x);
    case Activation::selu: return b * (x > 0 ? x : a * std::expm1(x));
    case Activation::hard_sigmoid: return std::fmax(0, std::fmin(1, a * x + b));
    case Activation::hard_swish: return x * std::fmax(0, std::fmin(1, a * x + b));
    case Activation::softplus: return x > 20 ? x : std::log1p(std::exp(x));
    case Activation::erf: return std::erf(x);
    case Activation::gelu: return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    case Activation::clip: return std::fmin(std::fmax(x, a), b);
    case Activation::exp: return std::exp(x);
    case Activation::log: return std::log(x);
    case Activation::sqrt: return std::sqrt(x);
    case Activation::neg: return -x;
    case Activation::abs: return std::fabs(x);
    case Activation::pow: return std::pow(x, a);
  }
  return x;
}

double ulp(double v) {
  const float f = static_cast<float>(std::fabs(v));
  return std::isfinite(f) ? std::nextafter(f, FLT_MAX) - f : 0.0;
}

std::vector<float> inputs(const OpCase& c) {
  std::vector<float> x = vx::test::uniform_floats(4099, 7, c.lo, c.hi);
  if (c.p.op == Activation::log) {  // log-uniform over the range
    for (float& v : x) v = static_cast<float>(std::exp(std::log(c.lo) + (v - c.lo) / (c.hi - c.lo) *
                                                                       (std::log(c.hi) - std::log(c.lo))));
  }
  for (float e : {0.f, 1e-7f, -1e-7f, 1e-30f, 0.5f, -0.5f, 1.f, -1.f, 3.f, -3.f, 20.f, 19.99f, 0.927f, 0.928f}) {
    if (e >= c.lo && e <= c.hi) x.push_back(e);
  }
  return x;
}

bool close(double got, double want, double x, double cancel) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= 4 * ulp(want) + cancel * std::fmax(1.0, std::fabs(x));
}

}  // namespace

TEST_CASE("activation forward: every table within a few ulp of the double oracle and of the reference") {
  for (const KernelTable* t : kernel_tables())
    for (const OpCase& c : op_cases()) {
      const std::vector<float> x = inputs(c);
      const int64_t n = static_cast<int64_t>(x.size());
      std::vector<float> got(n, 123.f), ref(n);
      t->activation(c.p, n, x.data(), got.data());
      ref_kernels().activation(c.p, n, x.data(), ref.data());
      int bad = 0, bad_ref = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double want = oracle(c.p, x[i]);
        if (!close(got[i], want, x[i], c.cancel)) {
          if (!bad) MESSAGE(t->name << " " << c.name << " x=" << x[i] << ": got " << got[i] << " want " << want);
          ++bad;
        }
        if (!close(got[i], ref[i], x[i], c.cancel)) {
          if (!bad_ref) MESSAGE(t->name << " " << c.name << " x=" << x[i] << ": got " << got[i] << " ref " << ref[i]);
          ++bad_ref;
        }
      }
      INFO(t->name << " " << c.name);
      CHECK(bad == 0);
      CHECK(bad_ref == 0);
    }
}

TEST_CASE("activation forward: NaN stays NaN, out-of-domain inputs give NaN, log(0) = -inf") {
  for (const KernelTable* t : kernel_tables()) {
    for (const OpCase& c : op_cases()) {
      const float nan = std::nanf("");
      float y = 0.f;
      t->activation(c.p, 1, &nan, &y);
      INFO(t->name << " " << c.name);
      CHECK(std::isnan(y));
    }
    ActivationParams p;
    p.op = Activation::log;
    const float xs[3] = {0.f, -1.f, INFINITY};
    float ys[3];
    t->activation(p, 3, xs, ys);
    CHECK(ys[0] == -INFINITY);
    CHECK(std::isnan(ys[1]));
    CHECK(ys[2] == INFINITY);
  }
}

TEST_CASE("activation backward: every table against a central difference of the oracle") {
  for (const KernelTable* t : kernel_tables())
    for (const OpCase& c : op_cases()) {
      std::vector<float> x;
      for (float v : inputs(c)) {
        bool near_kink = false;
        for (double k : c.kinks) near_kink |= std::fabs(v - k) < 1e-2;
        if (c.p.op == Activation::log && v < 1e-3f) near_kink = true;  // h is too coarse there
        if (!near_kink && std::fabs(v) < 60) x.push_back(v);
      }
      const int64_t n = static_cast<int64_t>(x.size());
      std::vector<float> y(n), dy(n), dx(n, 123.f);
      t->activation(c.p, n, x.data(), y.data());
      for (int64_t i = 0; i < n; ++i) dy[i] = 0.5f + 0.001f * static_cast<float>(i % 7);
      t->activation_backward(c.p, n, x.data(), y.data(), dy.data(), dx.data());
      int bad = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double h = 1e-4 * std::fmax(1e-3, std::fabs(x[i]));
        const double want = dy[i] * (oracle(c.p, x[i] + h) - oracle(c.p, x[i] - h)) / (2 * h);
        if (!(std::fabs(dx[i] - want) <= 1e-5 * std::fmax(1.0, std::fabs(want)))) {
          if (!bad) MESSAGE(t->name << " " << c.name << " x=" << x[i] << ": got " << dx[i] << " want " << want);
          ++bad;
        }
      }
      INFO(t->name << " " << c.name);
      CHECK(bad == 0);
    }
}
