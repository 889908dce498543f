// Post-processing against torch / scipy.ndimage.label / numpy (gen_pipeline_fixtures.py)
// and hand-built cases for the hip score. Tolerances: activations 1e-6, metrics 1e-12.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "io/nifti.h"
#include "pipeline/postprocess.h"

using namespace vx;

namespace {

nlohmann::json manifest() {
  std::ifstream f(std::string(VX_FIXTURE_DIR) + "/pipeline/manifest.json");
  REQUIRE_MESSAGE(f.good(), "run gen_pipeline_fixtures.py first");
  return nlohmann::json::parse(f);
}

Tensor load(const nlohmann::json& e) {
  Shape s;
  s.rank = static_cast<int>(e["shape"].size());
  for (int i = 0; i < s.rank; ++i) s[i] = e["shape"][i];
  Tensor t = Tensor::empty(s);
  std::ifstream f(e["file"].get<std::string>(), std::ios::binary);
  f.read(reinterpret_cast<char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
  REQUIRE(f.gcount() == static_cast<std::streamsize>(t.nbytes()));
  return t;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double d = 0;
  for (int64_t i = 0; i < a.numel(); ++i) d = std::max(d, double(std::fabs(a.f32()[i] - b.f32()[i])));
  return d;
}

}  // namespace

TEST_CASE("softmax, sigmoid and argmax match torch") {
  auto m = manifest();
  Tensor logits = load(m["logits"]);
  CHECK(max_abs_diff(softmax(logits), load(m["softmax"])) <= 1e-6);
  CHECK(max_abs_diff(sigmoid(logits), load(m["sigmoid"])) <= 1e-6);
  CHECK(max_abs_diff(argmax(logits), load(m["argmax"])) == 0);
  Tensor t = threshold(load(m["sigmoid"]), 0.5f);
  for (int64_t i = 0; i < t.numel(); ++i) CHECK(t.f32()[i] == (logits.f32()[i] > 0 ? 1.f : 0.f));
}

TEST_CASE("connected components match scipy.ndimage.label (6 and 26) up to relabelling") {
  auto m = manifest();
  Tensor mask = load(m["random_mask"]);
  for (int conn : {6, 26}) {
    INFO("connectivity " << conn);
    const auto& ref = m["cc" + std::to_string(conn)];
    Components c = connected_components(mask, conn);
    CHECK(c.count == ref["count"].get<int64_t>());
    std::vector<int64_t> sizes = c.sizes;
    std::sort(sizes.rbegin(), sizes.rend());
    CHECK(sizes == ref["sizes_sorted"].get<std::vector<int64_t>>());
    // same partition: a one-to-one map between our ids and scipy's
    Tensor theirs = load(ref);
    std::map<float, float> fwd, bwd;
    bool same = true;
    for (int64_t i = 0; i < mask.numel(); ++i) {
      float a = c.labels.f32()[i], b = theirs.f32()[i];
      if ((a == 0) != (b == 0)) same = false;
      if (a == 0) continue;
      auto f = fwd.emplace(a, b).first;
      auto g = bwd.emplace(b, a).first;
      if (f->second != b || g->second != a) same = false;
    }
    CHECK(same);
    CHECK(max_abs_diff(keep_largest_component(mask, conn), load(m["largest" + std::to_string(conn)])) == 0);
  }
  CHECK_THROWS_AS(connected_components(mask, 18), Error);
}

TEST_CASE("real cord mask: one 26-connected component, its volume in mL") {
  auto m = manifest();
  Volume v = read_nifti(m["cord"]["path"]);
  Components c = connected_components(v.data, 26);
  CHECK(c.count == m["cord"]["count26"].get<int64_t>());
  const double n = m["cord"]["voxels"].get<double>();
  CHECK(lesion_volume_ml(v.data, spacing(v)) == doctest::Approx(n * 1.0 / 1000).epsilon(1e-6));  // 1 mm iso
  CHECK(lesion_volume_ml(v.data, {0.5, 2.0, 3.5}) == doctest::Approx(n * 3.5 / 1000).epsilon(1e-12));
  CHECK_THROWS_AS(lesion_volume_ml(v.data, {0, 1, 1}), Error);
}

TEST_CASE("Dice and IoU match numpy") {
  auto m = manifest();
  Tensor a = load(m["a"]), b = load(m["b"]);
  CHECK(dice(a, b) == doctest::Approx(m["dice"].get<double>()).epsilon(1e-12));
  CHECK(iou(a, b) == doctest::Approx(m["iou"].get<double>()).epsilon(1e-12));
  CHECK(dice(a, a) == 1.0);
  Tensor z = Tensor::zeros(a.shape());
  CHECK(dice(z, z) == 1.0);
  CHECK(dice(a, z) == 0.0);
  CHECK_THROWS_AS(dice(a, Tensor::zeros(Shape{2, 2, 2})), Error);
}

TEST_CASE("hip UNet-score: lesion / femoral-head area over the 15 scoring slices") {
  // 20 coronal slices of 10x10; slice s has a 4x5 head (20 px) of which s % 5 px are lesion.
  Tensor lab = Tensor::zeros(Shape{20, 10, 10});
  Tensor img = Tensor::zeros(Shape{20, 10, 10});
  for (int64_t s = 0; s < 20; ++s)
    for (int64_t r = 2; r < 6; ++r)
      for (int64_t c = 3; c < 8; ++c) {
        int64_t k = (r - 2) * 5 + (c - 3);
        lab.f32()[(s * 10 + r) * 10 + c] = k < s % 5 ? 2.f : 1.f;
        img.f32()[(s * 10 + r) * 10 + c] = k < s % 5 ? 3.f : 1.f;
      }
  auto slices = hip_scoring_slices(20, 9);
  REQUIRE(slices.size() == 15);
  CHECK(slices.front() == 2);
  CHECK(slices.back() == 16);
  HipScore h = hip_unet_score(lab, slices, &img);
  double expect = 0, expect_w = 0, expect_head_only = 0;
  for (int64_t s : slices) {
    double l = double(s % 5);
    expect += l / 20;
    expect_w += 3 * l / (3 * l + (20 - l));
    expect_head_only += l / (20 - l);
  }
  CHECK(h.score == doctest::Approx(expect).epsilon(1e-12));
  CHECK(h.weighted_score == doctest::Approx(expect_w).epsilon(1e-12));
  HipScoreOptions o;
  o.head_includes_lesion = false;
  CHECK(hip_unet_score(lab, slices, nullptr, o).score == doctest::Approx(expect_head_only).epsilon(1e-12));
  CHECK_THROWS_AS(hip_scoring_slices(20, 15), Error);
  CHECK_THROWS_AS(hip_unet_score(lab, {25}), Error);
}
