// reduce, layer_norm, log_softmax (issue 18): the reference against a direct computation
// written here (long double, separate loops), and every fast table against the reference.
// Tolerances: |d| <= 1e-5 (1 + |want|) (sums in double on both sides; the fast layer norm
// takes the variance as E[x^2] - mean^2 in double, the reference centres first); max / min
// exact. The PyTorch oracle is tests/ops/gen_ops_fixtures.py (ops_parity_test).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/random_data.h"
#include "kernel_table.h"

using namespace vx::kern;

namespace {

void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tol, const std::string& what) {
  REQUIRE(got.size() == want.size());
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(double(got[i]) - want[i]) <= tol * (1 + std::fabs(want[i])))) ++bad;
  CHECK_MESSAGE(bad == 0, what << ": " << bad << " of " << got.size() << " differ");
}

struct RCase {
  std::vector<int64_t> shape;
  std::vector<int> axes;
};

// Direct: for each output position, loop over every input element and test whether it maps there.
std::vector<double> direct(const RCase& k, Reduce op, const std::vector<float>& x) {
  const int rank = static_cast<int>(k.shape.size());
  std::vector<bool> red(rank, false);
  for (int a : k.axes) red[a] = true;
  int64_t outs = 1;
  for (int i = 0; i < rank; ++i) outs *= red[i] ? 1 : k.shape[i];
  std::vector<long double> acc(outs, op == Reduce::prod ? 1 : 0), top(outs, op == Reduce::min ? INFINITY : -INFINITY);
  std::vector<int64_t> cnt(outs, 0);
  std::vector<int64_t> map(x.size());
  for (size_t e = 0; e < x.size(); ++e) {
    int64_t rem = static_cast<int64_t>(e), j = 0, mul = 1;
    for (int i = rank - 1; i >= 0; --i) {
      const int64_t idx = rem % k.shape[i];
      rem /= k.shape[i];
      if (!red[i]) j += idx * mul, mul *= k.shape[i];
    }
    map[e] = j;
    top[j] = op == Reduce::min ? std::min<long double>(top[j], x[e]) : std::max<long double>(top[j], x[e]);
  }
  for (size_t e = 0; e < x.size(); ++e) {
    const int64_t j = map[e];
    const long double v = x[e];
    ++cnt[j];
    switch (op) {
      case Reduce::prod: acc[j] *= v; break;
      case Reduce::l1: acc[j] += std::fabs(v); break;
      case Reduce::l2:
      case Reduce::sum_square: acc[j] += v * v; break;
      case Reduce::log_sum_exp: acc[j] += std::exp(v - top[j]); break;
      default: acc[j] += v;
    }
  }
  std::vector<double> y(outs);
  for (int64_t j = 0; j < outs; ++j) {
    long double v = acc[j];
    if (op == Reduce::mean) v /= cnt[j];
    if (op == Reduce::l2) v = std::sqrt(v);
    if (op == Reduce::log_sum) v = std::log(v);
    if (op == Reduce::log_sum_exp) v = top[j] + std::log(v);
    if (op == Reduce::max || op == Reduce::min) v = top[j];
    y[j] = static_cast<double>(v);
  }
  return y;
}

ReduceParams params_of(const RCase& k, Reduce op) {
  ReduceParams p;
  p.op = op;
  p.rank = static_cast<int>(k.shape.size());
  for (int i = 0; i < p.rank; ++i) p.shape[i] = k.shape[i];
  for (int a : k.axes) p.reduced[a] = true;
  return p;
}

}  // namespace

TEST_CASE("reduce: every op over trailing, middle, leading, split and all axes; fast vs reference vs direct") {
  const std::vector<RCase> cases = {
      {{2, 32, 7, 9, 5}, {2, 3, 4}},  // global average over space
      {{6, 37}, {1}},                 // last axis (LayerNorm-style), a tail
      {{3, 5, 40}, {1}},              // middle axis, inner > 16 with a tail
      {{9, 21}, {0}},                 // leading axis
      {{2, 3, 4, 5}, {1, 3}},         // two separate groups: the reference path
      {{4, 1, 6}, {0, 1}},            // an extent-1 axis inside the run
      {{3, 4, 5}, {0, 1, 2}},         // everything
      {{2, 600, 100}, {1, 2}},        // large enough to run in parallel
  };
  const Reduce ops[] = {Reduce::sum, Reduce::mean, Reduce::max, Reduce::min, Reduce::prod,
                        Reduce::l1,  Reduce::l2,   Reduce::sum_square, Reduce::log_sum, Reduce::log_sum_exp};
  for (const RCase& k : cases)
    for (Reduce op : ops) {
      int64_t n = 1;
      for (auto d : k.shape) n *= d;
      if (op == Reduce::prod && n > 1000) continue;  // overflows float
      // log_sum needs positive sums; prod stays finite with values near 1.
      const float lo = op == Reduce::log_sum || op == Reduce::prod ? 0.5f : -2.f;
      const float hi = op == Reduce::log_sum || op == Reduce::prod ? 1.5f : 2.f;
      auto x = vx::test::uniform_floats(n, 31, lo, hi);
      if (op == Reduce::mean || op == Reduce::sum)
        for (auto& v : x) v += 10.f;  // an offset: accumulation in float would show
      const ReduceParams p = params_of(k, op);
      const std::vector<double> want = direct(k, op, x);
      std::string what = "op " + std::to_string(static_cast<int>(op)) + " shape";
      for (auto d : k.shape) what += " " + std::to_string(d);
      for (const KernelTable* t : kernel_tables()) {
        std::vector<float> got(want.size(), 7.f);
        t->reduce(p, x.data(), got.data());
        const bool exact = op == Reduce::max || op == Reduce::min;
        expect_close(got, want, exact ? 0.0 : 1e-5, std::string(t->name) + " " + what);
      }
    }
}

TEST_CASE("reduce_backward: max ties split equally, prod with zeros, mean") {
  // 2 x 4, reduce axis 1.
  RCase k{{2, 4}, {1}};
  const std::vector<float> x = {1, 3, 3, 2, 0, 2, 0, 5}, dy = {6, 1};
  std::vector<float> y(2), dx(8);
  const KernelTable& t = ref_kernels();
  ReduceParams p = params_of(k, Reduce::max);
  t.reduce(p, x.data(), y.data());
  t.reduce_backward(p, x.data(), y.data(), dy.data(), dx.data());
  CHECK(dx == std::vector<float>{0, 3, 3, 0, 0, 0, 0, 1});
  p = params_of(k, Reduce::prod);
  const std::vector<float> xp = {1, 2, 0, 3, 0, 2, 0, 5};  // one zero: others' product there; two: 0
  t.reduce(p, xp.data(), y.data());
  t.reduce_backward(p, xp.data(), y.data(), dy.data(), dx.data());
  CHECK(dx == std::vector<float>{0, 0, 36, 0, 0, 0, 0, 0});
  p = params_of(k, Reduce::mean);
  t.reduce(p, x.data(), y.data());
  t.reduce_backward(p, x.data(), y.data(), dy.data(), dx.data());
  CHECK(dx == std::vector<float>{1.5f, 1.5f, 1.5f, 1.5f, 0.25f, 0.25f, 0.25f, 0.25f});
}

TEST_CASE("layer_norm: reference vs direct, fast vs reference, with and without scale/bias and statistics") {
  for (auto [outer, inner] : {std::pair<int64_t, int64_t>{5, 37}, {3, 16}, {700, 96}, {2, 1000}}) {
    auto x = vx::test::uniform_floats(outer * inner, 41, -1.f, 1.f);
    for (auto& v : x) v = v * 3.f + 20.f;  // offset: the variance must survive the mean
    const auto sc = vx::test::uniform_floats(inner, 42, 0.5f, 2.f), bi = vx::test::uniform_floats(inner, 43, -1.f, 1.f);
    for (bool affine : {true, false}) {
      std::vector<double> want(x.size()), wm(outer), wr(outer);
      for (int64_t r = 0; r < outer; ++r) {
        long double m = 0, v = 0;
        for (int64_t i = 0; i < inner; ++i) m += x[r * inner + i];
        m /= inner;
        for (int64_t i = 0; i < inner; ++i) v += (x[r * inner + i] - m) * (x[r * inner + i] - m);
        v /= inner;
        const long double rs = 1 / std::sqrt(v + 1e-5L);
        wm[r] = static_cast<double>(m), wr[r] = static_cast<double>(rs);
        for (int64_t i = 0; i < inner; ++i)
          want[r * inner + i] = static_cast<double>((x[r * inner + i] - m) * rs * (affine ? sc[i] : 1) + (affine ? bi[i] : 0));
      }
      LayerNormParams p;
      p.outer = outer, p.inner = inner, p.eps = 1e-5;
      for (const KernelTable* t : kernel_tables()) {
        std::vector<float> got(x.size(), 7.f), gm(outer), gr(outer);
        t->layer_norm(p, x.data(), affine ? sc.data() : nullptr, affine ? bi.data() : nullptr, got.data(), gm.data(),
                      gr.data());
        const std::string what = std::string(t->name) + " " + std::to_string(outer) + "x" + std::to_string(inner);
        expect_close(got, want, 1e-5, what);
        expect_close(gm, wm, 1e-6, what + " mean");
        expect_close(gr, wr, 1e-5, what + " inv_std");
        t->layer_norm(p, x.data(), affine ? sc.data() : nullptr, affine ? bi.data() : nullptr, got.data(), nullptr,
                      nullptr);
        expect_close(got, want, 1e-5, what + " (no statistics)");
      }
    }
  }
}

TEST_CASE("log_softmax: reference vs direct on the middle and last axis") {
  const int64_t outer = 3, c = 7, inner = 5;
  auto x = vx::test::uniform_floats(outer * c * inner, 51, -20.f, 20.f);
  std::vector<double> want(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      long double s = 0;
      for (int64_t k = 0; k < c; ++k) s += std::exp(static_cast<long double>(x[(o * c + k) * inner + i]));
      for (int64_t k = 0; k < c; ++k)
        want[(o * c + k) * inner + i] = static_cast<double>(x[(o * c + k) * inner + i] - std::log(s));
    }
  for (const KernelTable* t : kernel_tables()) {
    std::vector<float> got(x.size());
    t->log_softmax(outer, c, inner, x.data(), got.data());
    expect_close(got, want, 1e-6, t->name);
  }
}
