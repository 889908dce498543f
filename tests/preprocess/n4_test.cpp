// N4 bias-field correction: the separable B-spline fit against a naive scattered-data fit, the
// refinement against evaluation, and the whole filter against ITK 5.2's
// N4BiasFieldCorrectionImageFilter (when CMake found ITK) on real MRI from tests/data/mri,
// as given and multiplied by a known smooth field. Tolerances are stated at each check.
#include <doctest/doctest.h>
#include <nifti2_io.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "preprocess/bspline_fit.h"
#include "preprocess/n4.h"
#ifdef VX_HAVE_ITK
#include "itk_n4_ref.h"
#endif

using namespace vx;
using namespace vx::preprocess;

namespace {

struct Volume {
  std::array<int64_t, 3> dims{};  // z, y, x
  std::array<double, 3> spacing{};
  std::vector<float> v;
  int64_t numel() const { return dims[0] * dims[1] * dims[2]; }
};

// Reads a NIfTI volume (first 3-D frame) as float, x fastest, then block-averages by `f`.
Volume load(const std::string& rel, int f) {
  const std::string path = std::string(VX_TEST_DATA_DIR) + "/mri/" + rel;
  nifti_image* nim = nifti_image_read(path.c_str(), 1);
  REQUIRE_MESSAGE(nim != nullptr, "cannot read " << path);
  const int64_t nx = nim->nx, ny = nim->ny, nz = nim->nz;
  std::vector<float> raw(static_cast<size_t>(nx * ny * nz));
  for (size_t i = 0; i < raw.size(); ++i) {
    double x = 0;
    switch (nim->datatype) {
      case DT_UINT8: x = static_cast<const uint8_t*>(nim->data)[i]; break;
      case DT_INT16: x = static_cast<const int16_t*>(nim->data)[i]; break;
      case DT_UINT16: x = static_cast<const uint16_t*>(nim->data)[i]; break;
      case DT_INT32: x = static_cast<const int32_t*>(nim->data)[i]; break;
      case DT_FLOAT32: x = static_cast<const float*>(nim->data)[i]; break;
      case DT_FLOAT64: x = static_cast<const double*>(nim->data)[i]; break;
      default: FAIL("unsupported NIfTI datatype " << nim->datatype);
    }
    raw[i] = static_cast<float>(x * (nim->scl_slope != 0 ? nim->scl_slope : 1.0) + nim->scl_inter);
  }
  Volume out;
  out.dims = {nz / f, ny / f, nx / f};
  out.spacing = {nim->dz * f, nim->dy * f, nim->dx * f};
  nifti_image_free(nim);
  out.v.assign(static_cast<size_t>(out.numel()), 0.0f);
  for (int64_t z = 0; z < out.dims[0]; ++z)
    for (int64_t y = 0; y < out.dims[1]; ++y)
      for (int64_t x = 0; x < out.dims[2]; ++x) {
        double s = 0;
        for (int a = 0; a < f; ++a)
          for (int b = 0; b < f; ++b)
            for (int c = 0; c < f; ++c) s += raw[static_cast<size_t>(((z * f + a) * ny + y * f + b) * nx + x * f + c)];
        out.v[static_cast<size_t>((z * out.dims[1] + y) * out.dims[2] + x)] = static_cast<float>(s / (f * f * f));
      }
  return out;
}

// A smooth multiplicative field, about x0.6 .. x1.9 across the volume.
std::vector<float> known_field(const std::array<int64_t, 3>& d) {
  std::vector<float> f(static_cast<size_t>(d[0] * d[1] * d[2]));
  for (int64_t z = 0; z < d[0]; ++z)
    for (int64_t y = 0; y < d[1]; ++y)
      for (int64_t x = 0; x < d[2]; ++x) {
        const double u = double(z) / (d[0] - 1), v = double(y) / (d[1] - 1), w = double(x) / (d[2] - 1);
        const double l = 0.4 * std::sin(2.2 * w + 0.5) + 0.3 * (v - 0.5) * (v - 0.5) * 4 - 0.3 * u + 0.2 * w * v;
        f[static_cast<size_t>((z * d[1] + y) * d[2] + x)] = static_cast<float>(std::exp(l));
      }
  return f;
}

double pearson(const std::vector<float>& a, const std::vector<float>& b, const std::vector<uint8_t>& m) {
  double n = 0, sa = 0, sb = 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (m[i]) n += 1, sa += a[i], sb += b[i];
  const double ma = sa / n, mb = sb / n;
  double cab = 0, caa = 0, cbb = 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (m[i]) {
      cab += (a[i] - ma) * (b[i] - mb);
      caa += (a[i] - ma) * (a[i] - ma);
      cbb += (b[i] - mb) * (b[i] - mb);
    }
  return cab / std::sqrt(caa * cbb);
}

// RMS over the mask of log(estimate) - log(truth) after removing the mean (N4's field is only
// defined up to a constant factor).
double log_field_rms(const std::vector<float>& est, const std::vector<float>& truth, const std::vector<uint8_t>& m) {
  double n = 0, s = 0, ss = 0;
  for (size_t i = 0; i < est.size(); ++i)
    if (m[i]) {
      const double d = std::log(est[i]) - std::log(truth[i]);
      n += 1, s += d, ss += d * d;
    }
  return std::sqrt(std::max(0.0, ss / n - (s / n) * (s / n)));
}

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

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

#ifdef VX_HAVE_ITK
namespace {

struct Case {
  std::string file;
  int downsample;
  bool use_mask;   // Otsu mask for both (else no mask: all positive voxels)
  bool biased;     // multiply by the known field first
};

void compare_with_itk(const Case& c) {
  const bool use_mask = c.use_mask;
  const Volume vol = load(c.file, c.downsample);
  const std::vector<uint8_t> otsu = otsu_mask(vol.v.data(), vol.numel());
  // ITK keeps voxels <= 0 in its fit with their raw value as "log" (it requires positive input);
  // give it the mask of positive voxels so both solve the same problem (see n4.h).
  std::vector<uint8_t> pos(vol.v.size());
  for (size_t i = 0; i < pos.size(); ++i) pos[i] = vol.v[i] > 0 && (!use_mask || otsu[i]);
  const std::vector<float> truth = known_field(vol.dims);
  std::vector<float> biased(vol.v.size());
  for (size_t i = 0; i < biased.size(); ++i) biased[i] = vol.v[i] * truth[i];

  // ITK / SimpleITK defaults (200 bins, FWHM 0.15, noise 0.01, threshold 0.001, 4 levels, 4
  // control points) except 4 x 20 iterations: ITK needs ~5 us per voxel and iteration here.
  N4Options o;
  o.iterations = {20, 20, 20, 20};
  vx_test::ItkN4Params p;
  p.iterations = o.iterations;
  const double sp[3] = {vol.spacing[0], vol.spacing[1], vol.spacing[2]};
  {
    const bool biased_run = c.biased;
    const std::vector<float>& in = biased_run ? biased : vol.v;
    auto t0 = std::chrono::steady_clock::now();
    const N4Result ours = n4_bias_correct(in.data(), vol.dims, vol.spacing, use_mask ? otsu.data() : nullptr, o);
    const double t_ours = seconds_since(t0);
    std::vector<float> itk_out, itk_field;
    t0 = std::chrono::steady_clock::now();
    vx_test::itk_n4(in.data(), vol.dims[0], vol.dims[1], vol.dims[2], sp, pos.data(), p, itk_out, itk_field);
    const double t_itk = seconds_since(t0);
    const double corr = pearson(ours.corrected, itk_out, otsu);
    const double corr_field = pearson(ours.bias_field, itk_field, otsu);
    std::string its;
    for (int it : ours.iterations) its += std::to_string(it) + " ";
    char desc[512];
    std::snprintf(desc, sizeof desc,
                  "%s /%d %lldx%lldx%lld%s%s: Pearson(corrected) %.7f, Pearson(field) %.7f, ours %.3f s "
                  "(iterations %s), ITK %.3f s",
                  c.file.c_str(), c.downsample, static_cast<long long>(vol.dims[0]),
                  static_cast<long long>(vol.dims[1]), static_cast<long long>(vol.dims[2]),
                  use_mask ? " otsu mask" : " no mask", biased_run ? " x known field" : "", corr, corr_field, t_ours,
                  its.c_str(), t_itk);
    MESSAGE(std::string(desc));
    CHECK(corr >= 0.98);
    CHECK(all_finite(ours.corrected));
    if (biased_run) {
      const double e_ours = log_field_rms(ours.bias_field, truth, otsu);
      const double e_itk = log_field_rms(itk_field, truth, otsu);
      MESSAGE("  error vs known field (log RMS in mask): ours " << e_ours << ", ITK " << e_itk);
      // "At least as small as ITK's", allowing 2% relative + 0.002 for float summation order.
      CHECK(e_ours <= e_itk * 1.02 + 0.002);
    }
  }
}

}  // namespace

TEST_CASE("matches ITK N4 on real MRI: spine T1 x known field, no mask") {
  compare_with_itk({"spine-cervical-sct/t1/t1w.nii.gz", 2, false, true});
}
TEST_CASE("matches ITK N4 on real MRI: brain T1, Otsu mask") {
  compare_with_itk({"brain-t1-chris/chris_t1.nii.gz", 6, true, false});
}
TEST_CASE("matches ITK N4 on real MRI: abdomen x known field, no mask") {
  compare_with_itk({"abdomen-lumbar-totalseg/example_mr_sm.nii.gz", 2, false, true});
}
#else
TEST_CASE("ITK comparison") { MESSAGE("SKIPPED: ITK not found at configure time, no comparison with ITK N4"); }
#endif
