// group_norm (instance / group normalisation with a fused activation) and prelu (issue 18):
// the reference against a direct double-precision computation written here, the blocked16
// layout against the plain one, and every fast table against the reference in both layouts.
// Tolerances: reference vs direct |d| <= 1e-5 (1 + |want|); fast vs reference the same (the
// fast kernel sums x and x^2 in double, the reference centres first: last-bit differences
// in the folded coefficients); prelu exact.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/layouts.h"
#include "common/random_data.h"
#include "common/skip.h"
#include "cpu/cpu_kernels.h"
#include "kernel_table.h"

using namespace vx::kern;

namespace {

std::vector<const KernelTable*> fast_tables() {
  if (!cpu::cpu_kernels(cpu::Isa::avx512)) {
    const char* cap = std::getenv("VX_MAX_ISA");
    if (!cap) vx::test::skip("table cpu-avx512: this CPU has no AVX-512");
  }
  std::vector<const KernelTable*> t;
  for (const KernelTable* k : kernel_tables())
    if (k != &ref_kernels()) t.push_back(k);
  return t;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double tol, const std::string& what) {
  REQUIRE(got.size() == want.size());
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(double(got[i]) - want[i]) <= tol * (1 + std::fabs(want[i])))) ++bad;
  CHECK_MESSAGE(bad == 0, what << ": " << bad << " of " << got.size() << " differ");
}

struct Case {
  int64_t n, c, sp, group;
  Unary act;
  int slope;  // 0 none, 1 scalar, 2 per channel
};

std::vector<float> direct(const Case& k, const std::vector<float>& x, const std::vector<float>& sc,
                          const std::vector<float>& bi, const std::vector<float>& sl, double eps) {
  std::vector<float> y(x.size());
  for (int64_t b = 0; b < k.n; ++b)
    for (int64_t g = 0; g < k.c / k.group; ++g) {
      const int64_t base = (b * k.c + g * k.group) * k.sp, cnt = k.group * k.sp;
      double m = 0, v = 0;
      for (int64_t i = 0; i < cnt; ++i) m += x[base + i];
      m /= cnt;
      for (int64_t i = 0; i < cnt; ++i) v += (x[base + i] - m) * (x[base + i] - m);
      v /= cnt;
      for (int64_t i = 0; i < cnt; ++i) {
        const int64_t ch = g * k.group + i / k.sp;
        double z = (x[base + i] - m) / std::sqrt(v + eps) * sc[ch] + bi[ch];
        if (k.slope) z = z < 0 ? z * sl[k.slope == 1 ? 0 : ch] : z;
        else if (k.act == Unary::relu) z = z > 0 ? z : 0;
        else if (k.act == Unary::leaky_relu) z = z < 0 ? z * 0.2 : z;
        y[base + i] = static_cast<float>(z);
      }
    }
  return y;
}

}  // namespace

TEST_CASE("group_norm: reference vs direct, blocked16 vs plain, fast vs reference") {
  const std::vector<Case> cases = {{2, 3, 37, 1, Unary::identity, 0}, {1, 16, 100, 1, Unary::leaky_relu, 0},
                                   {2, 32, 33, 1, Unary::relu, 0},     {1, 32, 9000, 1, Unary::identity, 2},
                                   {2, 32, 50, 4, Unary::leaky_relu, 0}, {1, 16, 70, 16, Unary::identity, 1},
                                   {1, 6, 20, 3, Unary::relu, 0}};
  for (const Case& k : cases) {
    const int64_t total = k.n * k.c * k.sp;
    // A large offset checks that the statistics do not lose the variance to the mean.
    auto x = vx::test::uniform_floats(total, 11, -1.f, 1.f);
    for (auto& v : x) v = v * 3.f + 20.f;
    const auto sc = vx::test::uniform_floats(k.c, 12, 0.5f, 2.f), bi = vx::test::uniform_floats(k.c, 13, -1.f, 1.f);
    const auto sl = vx::test::uniform_floats(k.c, 14, 0.f, 0.5f);
    NormParams p;
    p.n = k.n, p.c = k.c, p.spatial = k.sp, p.group = k.group, p.eps = 1e-5, p.act = k.act, p.alpha = 0.2f;
    if (k.slope) p.slope = sl.data(), p.slope_count = k.slope == 1 ? 1 : k.c;
    const std::string what = "c=" + std::to_string(k.c) + " sp=" + std::to_string(k.sp) + " group=" + std::to_string(k.group);
    std::vector<float> want(total), got(total, 7.f);
    ref_kernels().group_norm(p, x.data(), sc.data(), bi.data(), want.data());
    expect_close(want, direct(k, x, sc, bi, sl, 1e-5), 1e-5, "ref vs direct " + what);
    std::vector<Layout> layouts = {Layout::plain};
    if (k.c % 16 == 0) layouts.push_back(Layout::blocked16);
    for (const KernelTable* t : [] {
           auto v = fast_tables();
           v.insert(v.begin(), &ref_kernels());
           return v;
         }()) {
      for (Layout l : layouts) {
        NormParams q = p;
        q.layout = l;
        const auto xl = vx::test::to_layout(x, k.n, k.c, k.sp, l);
        std::fill(got.begin(), got.end(), 7.f);
        t->group_norm(q, xl.data(), sc.data(), bi.data(), got.data());
        expect_close(got, vx::test::to_layout(want, k.n, k.c, k.sp, l), 1e-5,
                     std::string(t->name) + (l == Layout::plain ? " plain " : " blocked16 ") + what);
      }
    }
  }
}

TEST_CASE("prelu: per-channel and scalar slope, fast vs reference vs direct") {
  const int64_t n = 2, c = 5, inner = 37;
  const auto x = vx::test::uniform_floats(n * c * inner, 21, -1.f, 1.f), sl = vx::test::uniform_floats(c, 22, -0.5f, 0.5f);
  for (int64_t count : {int64_t(1), c}) {
    std::vector<float> want(x.size()), got(x.size());
    for (int64_t i = 0; i < n * c * inner; ++i) {
      const float a = sl[count == 1 ? 0 : (i / inner) % c];
      want[i] = x[i] < 0 ? x[i] * a : x[i];
    }
    for (const KernelTable* t : kernel_tables()) {
      t->prelu(n, c, inner, sl.data(), count, x.data(), got.data());
      expect_close(got, want, 0, std::string(t->name) + " prelu count=" + std::to_string(count));
    }
  }
}
