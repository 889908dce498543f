// lib/preprocess/sij_recipe against an independent NumPy/SciPy/PyTorch computation of the
// published chain (tests/preprocess/gen_recipe_fixtures.py), step by step, without N4; the N4
// step against a direct n4_volume call; the plan's JSON round trip and its errors.
#include <doctest/doctest.h>

#include <cmath>

#include "common/fixtures.h"
#include "core/error.h"
#include "io/volume_io.h"
#include "preprocess/n4_volume.h"
#include "preprocess/sij_recipe.h"

using namespace vx;
using namespace vx::preprocess;

namespace {

nlohmann::json manifest() { return test::read_json(test::fixture_dir("recipe") + "/manifest.json"); }

Tensor ref(const nlohmann::json& man, const std::string& name) {
  const auto& c = man["cases"][name];
  return test::read_bin(c["file"].get<std::string>(), test::shape_of(c["shape_dhw"]));
}

void check_close(const Tensor& ours, const Tensor& want, const std::string& what) {
  INFO(what);
  REQUIRE(ours.shape() == want.shape());
  const double scale = std::max(1.0, test::max_abs(want));
  CHECK(test::max_abs_diff(ours, want) <= 1e-4 * scale);
}

bool all_finite(const Tensor& t) {
  const Tensor c = t.is_contiguous() ? t : t.clone();
  for (int64_t i = 0; i < c.numel(); ++i)
    if (!std::isfinite(c.f32()[i])) return false;
  return true;
}

Volume input() { return read_volume(manifest()["image"].get<std::string>()); }

// Runs the first `n` steps of `plan`.
Volume prefix(const Plan& plan, size_t n, const Volume& v) {
  Plan p;
  p.steps.assign(plan.steps.begin(), plan.steps.begin() + static_cast<std::ptrdiff_t>(n));
  return run_plan(p, v).volume;
}

}  // namespace

TEST_CASE("sij recipe without N4 matches NumPy/SciPy/PyTorch step by step") {
  const auto man = manifest();
  const Volume in = input();
  const Plan den = sij_plan("denoiser", false);
  REQUIRE(den.steps.size() == 4);
  const Volume rs = prefix(den, 1, in);
  check_close(rs.data, ref(man, "resampled"), "resample");
  const auto& aff = man["cases"]["resampled"]["affine"];
  for (int i = 0; i < 16; ++i) CHECK(rs.affine[i] == doctest::Approx(aff[i].get<double>()).epsilon(1e-9));
  check_close(prefix(den, 2, in).data, ref(man, "clipped"), "clip");
  check_close(prefix(den, 3, in).data, ref(man, "den_resized"), "denoiser resize");
  const auto full = run_plan(den, in);
  check_close(full.volume.data, ref(man, "den_zscore"), "denoiser zscore");
  CHECK(full.timings.size() == 4);
  CHECK(full.volume.size_ijk() == std::array<int64_t, 3>{192, 192, 20});

  const Plan cls = sij_plan("classifier", false);
  REQUIRE(cls.steps.size() == 5);
  check_close(prefix(cls, 3, in).data, ref(man, "cls_cropped"), "classifier crop");
  check_close(prefix(cls, 4, in).data, ref(man, "cls_resized"), "classifier resize");
  const auto c = run_plan(cls, in);
  check_close(c.volume.data, ref(man, "cls_maxscaled"), "classifier max scale");
  CHECK(c.volume.size_ijk() == std::array<int64_t, 3>{192, 192, 16});
}

TEST_CASE("the N4 step equals calling n4 directly") {
  const Volume in = input();
  N4Options o;
  o.shrink_factor = 2;
  o.iterations = {20, 20};
  const Plan plan = sij_plan("denoiser", true, o);
  REQUIRE(plan.steps[2].op == "n4");
  const Volume clipped = prefix(plan, 2, in);
  const Volume via_plan = prefix(plan, 3, in);
  const auto direct = n4_volume(clipped, o);
  REQUIRE(all_finite(via_plan.data));
  CHECK(test::max_abs_diff(via_plan.data, direct.corrected.data) == 0.0);
  CHECK(via_plan.affine == clipped.affine);
  const auto full = run_plan(plan, in);
  CHECK(all_finite(full.volume.data));
  CHECK(full.timings.size() == 5);
}

TEST_CASE("plan JSON round trip and metadata") {
  N4Options o;
  o.shrink_factor = 4;
  for (const char* target : {"denoiser", "classifier"}) {
    const Plan p = sij_plan(target, true, o);
    const auto j = plan_to_json(p);
    CHECK(plan_to_json(plan_from_json(j)) == j);
    const auto md = nlohmann::json{{"preprocessing", {{"plan", j}}}};
    const auto parsed = plan_from_metadata(md);
    REQUIRE(parsed.has_value());
    CHECK(parsed->steps.size() == p.steps.size());
    CHECK(parsed->steps[2].n4.shrink_factor == 4);
  }
  CHECK_FALSE(plan_from_metadata(nlohmann::json{{"preprocessing", {{"align_corners", true}}}}).has_value());
  CHECK_FALSE(plan_from_metadata(nlohmann::json::object()).has_value());
}

TEST_CASE("plan errors are clear") {
  auto status_of = [](const nlohmann::json& j) {
    try {
      plan_from_json(j);
    } catch (const Error& e) {
      MESSAGE(std::string(e.what()));
      return e.status();
    }
    return Status::ok;
  };
  CHECK(status_of(nlohmann::json::parse(R"([{"op": "sharpen"}])")) == Status::invalid_argument);
  CHECK_THROWS_WITH_AS(plan_from_json(nlohmann::json::parse(R"([{"op": "max_scale"}, {"op": "sharpen"}])")),
                       doctest::Contains("unknown step \"sharpen\""), Error);
  CHECK(status_of(nlohmann::json::parse(R"([{"op": "resize", "size": [1, 2, 3], "align_corner": true}])")) ==
        Status::invalid_argument);
  CHECK(status_of(nlohmann::json::parse(R"([{"op": "resize"}])")) == Status::invalid_argument);
  CHECK(status_of(nlohmann::json::parse(R"([{"op": "resample", "spacing": [1, 1]}])")) == Status::invalid_argument);
  CHECK(status_of(nlohmann::json::parse(R"([{"op": "clip_percentile", "upper": 101}])")) == Status::invalid_argument);
  CHECK(status_of(nlohmann::json::parse(R"({"op": "zscore"})")) == Status::invalid_argument);
  CHECK(status_of(nlohmann::json::parse(R"([{"op": "resize", "size": [4, 4, 4], "interp": "cubic"}])")) ==
        Status::invalid_argument);
  CHECK_THROWS_AS(sij_plan("segmenter"), Error);
}

TEST_CASE("degenerate volumes: a documented no-op or a clear error, never NaN") {
  // Constant positive volume covering the whole output grid: N4 is a no-op, max scale gives ones,
  // z-score gives finite values.
  Volume v;
  v.data = Tensor::empty(Shape{40, 240, 240});
  for (int64_t i = 0; i < v.data.numel(); ++i) v.data.f32()[i] = 7.f;
  v.affine[10] = 3.5;  // k spacing 3.5 mm
  N4Options o;
  o.shrink_factor = 4;
  o.iterations = {5};
  const auto den = run_plan(sij_plan("denoiser", true, o), v).volume;
  REQUIRE(all_finite(den.data));
  // Not exactly 0: the trilinear resize leaves float rounding (~1e-7) on the constant, and
  // zscore's eps (1e-8, absolute) lets that noise through scaled to unit variance.
  CHECK(test::max_abs(den.data) < 10.0);
  const auto cls = run_plan(sij_plan("classifier", true, o), v).volume;
  REQUIRE(all_finite(cls.data));
  CHECK(test::max_abs(cls.data) == doctest::Approx(1.0));

  // All zeros: the clip and z-score are fine, N4 has no positive voxel -> a clear error.
  Volume z = v;
  z.data = Tensor::zeros(Shape{40, 240, 240});
  CHECK(all_finite(run_plan(sij_plan("denoiser", false), z).volume.data));
  CHECK_THROWS_WITH_AS(run_plan(sij_plan("denoiser", true, o), z), doctest::Contains("step 2 (n4)"), Error);

  // NaN input: a clear error from the clip step.
  Volume n = v;
  n.data = v.data.clone();
  n.data.f32()[(20 * 240 + 120) * 240 + 120] = std::nanf("");
  CHECK_THROWS_AS(run_plan(sij_plan("classifier", false), n), Error);
}
