// lib/image against torch / scipy / numpy on a real MRI (fixtures: gen_image_fixtures.py).
// Tolerances: resize/resample 1e-4 relative to the image maximum (float32 vs float64
// arithmetic); nearest exact; percentiles 1e-6 relative; z-score/max-scale 1e-5 absolute.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "image/geometry.h"
#include "image/intensity.h"
#include "io/nifti.h"

using namespace vx;

namespace {

nlohmann::json manifest() {
  std::ifstream f(std::string(VX_FIXTURE_DIR) + "/image/manifest.json");
  REQUIRE_MESSAGE(f.good(), "run gen_image_fixtures.py first");
  return nlohmann::json::parse(f);
}

// Largest |got - ref| over the case; checks the shape first.
double max_diff(const Tensor& got, const nlohmann::json& c) {
  const auto& s = c["shape_dhw"];
  REQUIRE(got.dim(0) == s[0].get<int64_t>());
  REQUIRE(got.dim(1) == s[1].get<int64_t>());
  REQUIRE(got.dim(2) == s[2].get<int64_t>());
  std::vector<float> ref(static_cast<size_t>(got.numel()));
  std::ifstream f(c["file"].get<std::string>(), std::ios::binary);
  f.read(reinterpret_cast<char*>(ref.data()), static_cast<std::streamsize>(ref.size() * 4));
  REQUIRE(f.gcount() == static_cast<std::streamsize>(ref.size() * 4));
  double d = 0;
  for (size_t i = 0; i < ref.size(); ++i) d = std::max(d, double(std::fabs(got.f32()[i] - ref[i])));
  return d;
}

float max_of(const Tensor& t) {
  float m = t.f32()[0];
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, t.f32()[i]);
  return m;
}

std::array<double, 3> jarr3(const nlohmann::json& j) { return {j[0], j[1], j[2]}; }
std::array<int64_t, 3> jsize3(const nlohmann::json& j) { return {j[0], j[1], j[2]}; }

}  // namespace

TEST_CASE("resize matches torch F.interpolate (trilinear align_corners true/false, nearest)") {
  auto m = manifest();
  Volume v = read_nifti(m["image"]);
  Volume mask = read_nifti(m["mask"]);
  const double tol = 1e-4 * max_of(v.data);
  const std::array<int64_t, 3> size = {33, 60, 50};
  for (bool ac : {true, false}) {
    Volume r = resize(v, size, Interp::linear, ac);
    INFO("align_corners " << ac);
    CHECK(max_diff(r.data, m["cases"][ac ? "resize_trilinear_ac1" : "resize_trilinear_ac0"]) <= tol);
    // the affine follows the index transform: voxel 0 keeps its world position for ac = true
    if (ac)
      for (int r_ = 0; r_ < 3; ++r_) CHECK(std::fabs(r.affine[r_ * 4 + 3] - v.affine[r_ * 4 + 3]) < 1e-9);
  }
  CHECK(max_diff(resize(mask, size, Interp::nearest, false).data, m["cases"]["resize_nearest_mask"]) == 0);
}

TEST_CASE("centred physical resampling matches scipy map_coordinates (linear, nearest, SIJ recipe)") {
  auto m = manifest();
  Volume v = read_nifti(m["image"]);
  Volume mask = read_nifti(m["mask"]);
  const double tol = 1e-4 * max_of(v.data);
  for (const char* name : {"resample_linear_aniso", "resample_linear_sij_recipe"}) {
    INFO(name);
    const auto& c = m["cases"][name];
    ResampleOptions o;
    o.spacing = jarr3(c["spacing_ijk"]);
    o.size = jsize3(c["size_ijk"]);
    Volume r = resample(v, o);
    CHECK(max_diff(r.data, c) <= tol);
    auto sp = spacing(r);
    for (int a = 0; a < 3; ++a) CHECK(sp[a] == doctest::Approx(o.spacing[a]).epsilon(1e-9));
    // the world centre of the grid is unchanged
    auto centre = [](const Volume& x) {
      std::array<double, 3> w{};
      auto n = x.size_ijk();
      for (int r_ = 0; r_ < 3; ++r_) {
        w[r_] = x.affine[r_ * 4 + 3];
        for (int a = 0; a < 3; ++a) w[r_] += x.affine[r_ * 4 + a] * (n[a] - 1) / 2.0;
      }
      return w;
    };
    for (int a = 0; a < 3; ++a) CHECK(std::fabs(centre(r)[a] - centre(v)[a]) < 1e-6);
  }
  const auto& c = m["cases"]["resample_nearest_mask"];
  ResampleOptions o;
  o.spacing = jarr3(c["spacing_ijk"]);
  o.interp = Interp::nearest;
  CHECK(max_diff(resample(mask, o).data, c) == 0);
  ResampleOptions bad;
  bad.spacing = {1, -1, 1};
  CHECK_THROWS_AS(resample(v, bad), Error);
  bad.spacing = {0, 0, 0};
  bad.size = {100000, 100000, 100000};
  CHECK_THROWS_AS(resample(v, bad), Error);
}

TEST_CASE("centre crop/pad matches numpy and shifts the affine") {
  auto m = manifest();
  Volume v = read_nifti(m["image"]);
  const auto& c = m["cases"]["crop_pad"];
  Volume r = crop_or_pad(v, jsize3(c["size_ijk"]), -1.f);
  CHECK(max_diff(r.data, c) == 0);
  // output voxel 0 is input voxel floor((n_in - n_out)/2) = (6, -2, 3)
  for (int row = 0; row < 3; ++row) {
    double w = v.affine[row * 4 + 3] + v.affine[row * 4 + 0] * 6 + v.affine[row * 4 + 1] * -2 + v.affine[row * 4 + 2] * 3;
    CHECK(std::fabs(r.affine[row * 4 + 3] - w) < 1e-9);
  }
  CHECK_THROWS_AS(crop_or_pad(v, {0, 10, 10}), Error);
}

TEST_CASE("percentile, clip, z-score and max-scale match numpy") {
  auto m = manifest();
  Volume v = read_nifti(m["image"]);
  Volume mask = read_nifti(m["mask"]);
  for (auto& [p, ref] : m["percentiles"].items()) {
    INFO("p = " << p);
    CHECK(percentile(v.data, std::stod(p)) == doctest::Approx(ref.get<double>()).epsilon(1e-6));
  }
  Tensor t = v.data.clone();
  clip_percentile(t, 0, 99);
  CHECK(max_diff(t, m["cases"]["clip_0_99"]) <= 1e-3);
  t = v.data.clone();
  zscore(t);
  CHECK(max_diff(t, m["cases"]["zscore_whole"]) <= 1e-5);
  t = v.data.clone();
  zscore(t, 1);
  CHECK(max_diff(t, m["cases"]["zscore_whole_ddof1"]) <= 1e-5);
  t = v.data.clone();
  zscore(t, 0, &mask.data);
  CHECK(max_diff(t, m["cases"]["zscore_mask"]) <= 1e-4);
  t = v.data.clone();
  max_scale(t);
  CHECK(max_diff(t, m["cases"]["max_scale"]) <= 1e-6);
  // failures leave the tensor untouched
  Tensor before = v.data.clone();
  Tensor empty_mask = Tensor::zeros(v.data.shape());
  CHECK_THROWS_AS(zscore(v.data, 0, &empty_mask), Error);
  CHECK_THROWS_AS(percentile(v.data, 101), Error);
  CHECK_THROWS_AS(clip_percentile(v.data, 99, 1), Error);
  for (int64_t i = 0; i < before.numel(); ++i) REQUIRE(before.f32()[i] == v.data.f32()[i]);
}
