// N4 bias-field correction: the separable B-spline fit against a naive scattered-data fit, the
// refinement against evaluation, bad input, and a known field recovered on a phantom. The
// comparison with ITK's N4 on real MRI is n4_itk_test.cpp. Tolerances are stated at each check.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "n4_fields.h"
#include "preprocess/bspline_fit.h"
#include "preprocess/n4.h"

using namespace vx;
using namespace vx::preprocess;
using namespace vx::test::n4;

TEST_CASE("separable B-spline fit equals the naive per-point scattered-data fit (ITK's loop)") {
  const std::array<int64_t, 3> d{7, 9, 11};
  const std::array<int64_t, 3> cp{5, 4, 7};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> val(-1.f, 1.f);
  std::vector<float> r(static_cast<size_t>(d[0] * d[1] * d[2]));
  std::vector<uint8_t> inc(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    inc[i] = (rng() % 4) != 0;
    r[i] = inc[i] ? val(rng) : 0.f;
  }
  const BSplineFitPlan plan = make_fit_plan(d, cp, inc.data());
  BSplineLattice phi = BSplineLattice::zeros(cp);
  bspline_fit(plan, r.data(), phi);

  // Naive: every point adds B^3 r / sum(B^2) to delta and B^2 to omega of its 64 neighbours.
  std::vector<double> delta(phi.coef.size(), 0.0), omega(phi.coef.size(), 0.0);
  for (int64_t z = 0; z < d[0]; ++z)
    for (int64_t y = 0; y < d[1]; ++y)
      for (int64_t x = 0; x < d[2]; ++x) {
        const size_t i = static_cast<size_t>((z * d[1] + y) * d[2] + x);
        if (!inc[i]) continue;
        const int64_t idx[3] = {z, y, x};
        double w[3][4];
        int64_t first[3];
        for (int a = 0; a < 3; ++a) {
          // Independent evaluation of the cubic kernel: B(v) for v = u - k + 1.
          const double spans = double(cp[a] - 3);
          double u = spans * double(idx[a]) / double(d[a] - 1);
          if (std::abs(u - spans) <= spans / double(d[a] - 1) * 1e-3) u = spans - spans / double(d[a] - 1) * 1e-3;
          first[a] = int64_t(u);
          for (int t = 0; t < 4; ++t) {
            const double v = std::abs(u - double(first[a] + t) + 1.0);
            w[a][t] = v < 1 ? (4 - 6 * v * v + 3 * v * v * v) / 6 : v < 2 ? (2 - v) * (2 - v) * (2 - v) / 6 : 0;
          }
        }
        double w2 = 0;
        for (int a = 0; a < 4; ++a)
          for (int b = 0; b < 4; ++b)
            for (int c = 0; c < 4; ++c) w2 += std::pow(w[0][a] * w[1][b] * w[2][c], 2);
        for (int a = 0; a < 4; ++a)
          for (int b = 0; b < 4; ++b)
            for (int c = 0; c < 4; ++c) {
              const double B = w[0][a] * w[1][b] * w[2][c];
              const size_t k = static_cast<size_t>(((first[0] + a) * cp[1] + first[1] + b) * cp[2] + first[2] + c);
              delta[k] += r[i] * B * B * B / w2;
              omega[k] += B * B;
            }
      }
  double max_err = 0;
  for (size_t k = 0; k < delta.size(); ++k) {
    const double ref = omega[k] != 0 ? delta[k] / omega[k] : 0;
    max_err = std::max(max_err, std::abs(ref - phi.coef[k]));
  }
  CHECK(max_err < 1e-12);  // same sums, different order
}

TEST_CASE("lattice refinement (2n-3 control points) describes the same spline") {
  BSplineLattice l = BSplineLattice::zeros({4, 5, 6});
  std::mt19937 rng(3);
  std::normal_distribution<double> g;
  for (double& c : l.coef) c = g(rng);
  const BSplineLattice r = bspline_refine(l);
  CHECK(r.n == std::array<int64_t, 3>{5, 7, 9});
  const std::array<int64_t, 3> d{6, 13, 10};
  std::array<AxisBasis, 3> b0, b1;
  for (int a = 0; a < 3; ++a) {
    b0[a] = make_axis_basis(d[a], l.n[a]);
    b1[a] = make_axis_basis(d[a], r.n[a]);
  }
  std::vector<float> f0(static_cast<size_t>(d[0] * d[1] * d[2])), f1(f0.size());
  bspline_evaluate(l, b0, f0.data());
  bspline_evaluate(r, b1, f1.data());
  double max_err = 0;
  for (size_t i = 0; i < f0.size(); ++i) max_err = std::max(max_err, double(std::abs(f0[i] - f1[i])));
  CHECK(max_err < 2e-5);  // float output of O(1) values; the epsilon pull-back at the last voxel
}

TEST_CASE("bad input gives a clear error or a documented no-op, never NaN") {
  const std::array<int64_t, 3> d{6, 8, 10};
  const std::array<double, 3> sp{1, 1, 1};
  const int64_t n = d[0] * d[1] * d[2];
  std::vector<float> v(static_cast<size_t>(n));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(50.f, 150.f);
  for (float& x : v) x = u(rng);

  SUBCASE("constant volume: no-op, field 1") {
    std::vector<float> c(static_cast<size_t>(n), 42.f);
    const N4Result r = n4_bias_correct(c.data(), d, sp, nullptr);
    CHECK(r.degenerate);
    CHECK(r.corrected == c);
    for (float f : r.bias_field) CHECK(f == 1.f);
  }
  SUBCASE("empty mask") {
    std::vector<uint8_t> m(static_cast<size_t>(n), 0);
    CHECK_THROWS_WITH_AS(n4_bias_correct(v.data(), d, sp, m.data()), "n4: the mask selects no voxel with positive intensity",
                         vx::Error);
  }
  SUBCASE("all voxels <= 0") {
    std::vector<float> z(static_cast<size_t>(n), 0.f);
    z[3] = -5.f;
    CHECK_THROWS_AS(n4_bias_correct(z.data(), d, sp, nullptr), vx::Error);
  }
  SUBCASE("zeros and negatives are excluded and returned unchanged") {
    std::vector<float> w = v;
    for (size_t i = 0; i < w.size(); i += 3) w[i] = (i % 2) ? 0.f : -17.f;
    N4Options o;
    o.iterations = {10, 10};
    const N4Result r = n4_bias_correct(w.data(), d, sp, nullptr, o);
    CHECK(all_finite(r.corrected));
    CHECK(all_finite(r.bias_field));
    for (size_t i = 0; i < w.size(); ++i) {
      CHECK(r.bias_field[i] > 0.f);
      if (w[i] <= 0.f) CHECK(r.corrected[i] == w[i]);
    }
  }
  SUBCASE("NaN input, bad spacing, tiny axes, bad options") {
    std::vector<float> w = v;
    w[5] = std::nanf("");
    CHECK_THROWS_WITH_AS(n4_bias_correct(w.data(), d, sp, nullptr), "n4: input volume contains NaN or infinity",
                         vx::Error);
    CHECK_THROWS_AS(n4_bias_correct(v.data(), d, {1, 0, 1}, nullptr), vx::Error);
    CHECK_THROWS_AS(n4_bias_correct(v.data(), {1, 8, 60}, sp, nullptr), vx::Error);
    N4Options o;
    o.shrink_factor = 4;
    CHECK_THROWS_AS(n4_bias_correct(v.data(), d, sp, nullptr, o), vx::Error);  // 6/4 = 1 voxel
    o = {};
    o.spline_order = 2;
    CHECK_THROWS_AS(n4_bias_correct(v.data(), d, sp, nullptr, o), vx::Error);
    o = {};
    o.iterations = {};
    CHECK_THROWS_AS(n4_bias_correct(v.data(), d, sp, nullptr, o), vx::Error);
  }
  SUBCASE("two-valued volume runs and stays finite") {
    std::vector<float> w(static_cast<size_t>(n));
    for (size_t i = 0; i < w.size(); ++i) w[i] = (i % 7) ? 100.f : 200.f;
    const N4Result r = n4_bias_correct(w.data(), d, sp, nullptr);
    CHECK(all_finite(r.corrected));
    CHECK(all_finite(r.bias_field));
  }
}

TEST_CASE("a smooth multiplicative field on a piecewise-constant phantom is recovered") {
  // Three tissue classes in a sphere, background 0, times a known field. N4 must remove it:
  // remaining log-field RMS error < 0.03 (the applied field spans about 1.0 in log).
  const std::array<int64_t, 3> d{24, 40, 40};
  std::vector<float> v(static_cast<size_t>(d[0] * d[1] * d[2]));
  std::vector<uint8_t> m(v.size());
  for (int64_t z = 0; z < d[0]; ++z)
    for (int64_t y = 0; y < d[1]; ++y)
      for (int64_t x = 0; x < d[2]; ++x) {
        const double dz = (z - 11.5) / 11, dy = (y - 19.5) / 18, dx = (x - 19.5) / 18;
        const double r = std::sqrt(dz * dz + dy * dy + dx * dx);
        const size_t i = static_cast<size_t>((z * d[1] + y) * d[2] + x);
        v[i] = r > 1 ? 0.f : r > 0.7 ? 300.f : ((x / 5 + y / 5 + z / 4) % 2 ? 600.f : 900.f);
        m[i] = r <= 1;
      }
  const std::vector<float> truth = known_field(d);
  std::vector<float> b(v.size());
  for (size_t i = 0; i < v.size(); ++i) b[i] = v[i] * truth[i];
  const N4Result r = n4_bias_correct(b.data(), d, {2, 1, 1}, nullptr);
  const double err = log_field_rms(r.bias_field, truth, m);
  const double before = log_field_rms(std::vector<float>(v.size(), 1.f), truth, m);
  MESSAGE("phantom: log-field RMS before " << before << ", after N4 " << err);
  CHECK(err < 0.03);
  CHECK(err < 0.25 * before);
  CHECK(all_finite(r.corrected));
}
