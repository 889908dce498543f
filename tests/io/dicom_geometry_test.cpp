// Uneven DICOM slice positions (gen_dicom_geometry_fixtures.py: series written by pydicom from
// the real sagittal T1 series and a NIfTI volume): a missing slice and changing gaps are refused
// with a message naming the gap, where it is and the option; with resample_uneven_slices they are
// resampled onto the regular grid of lib/io/slice_grid.h: slice origins within 1e-3 mm of the
// expected world positions (and, for the missing slice, of every true slice), voxels within 1e-3
// (relative to the largest value) of scipy's interp1d of the true slices, and a warning in
// header.warnings. Small jitter is accepted unchanged; a sheared series is refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/fixtures.h"
#include "io/dicom.h"
#include "io/slice_grid.h"

using namespace vx;

namespace {

nlohmann::json manifest() { return test::read_json(test::fixture_dir("dicom_geometry") + "/manifest.json"); }

// RAS of voxel (0, 0, k).
std::array<double, 3> slice_origin(const Mat4& a, double k) {
  return {a[3] + k * a[2], a[7] + k * a[6], a[11] + k * a[10]};
}

void check_volume(const Volume& v, const nlohmann::json& e) {
  REQUIRE(v.nz() == e["shape_dhw"][0].get<int64_t>());
  REQUIRE(v.ny() == e["shape_dhw"][1].get<int64_t>());
  REQUIRE(v.nx() == e["shape_dhw"][2].get<int64_t>());
  Mat4 want{};
  for (int i = 0; i < 16; ++i) want[i] = e["affine"][i].get<double>();
  for (int64_t k = 0; k < v.nz(); ++k) {
    const auto got = slice_origin(v.affine, double(k)), ref = slice_origin(want, double(k));
    for (int a = 0; a < 3; ++a) CHECK(std::fabs(got[a] - ref[a]) <= 1e-3);
  }
  for (int i = 0; i < 12; ++i) CHECK(std::fabs(v.affine[i] - want[i]) <= 1e-4);
  const Tensor ref = test::read_bin(e["ref"], v.data.shape());
  CHECK(test::max_abs_diff(v.data, ref) <= 1e-3 * std::max(1.0, test::max_abs(ref)));
}

}  // namespace

TEST_CASE("a missing slice and changing gaps are refused with the gap, where it is and the option named") {
  auto m = manifest();
  for (const char* name : {"missing", "gaps"}) {
    INFO(name);
    const auto& e = m[name];
    std::string msg;
    try {
      read_dicom(e["path"].get<std::string>());
    } catch (const Error& err) {
      CHECK(err.status() == Status::corrupt_file);
      msg = err.what();
    }
    MESSAGE(msg);
    REQUIRE(!msg.empty());
    for (const auto& part : e["message"]) CHECK_MESSAGE(msg.find(part.get<std::string>()) != std::string::npos, part);
  }
}

TEST_CASE("with resample_uneven_slices they are resampled onto the regular grid, with a warning") {
  auto m = manifest();
  DicomReadOptions o;
  o.resample_uneven_slices = true;
  for (const char* name : {"missing", "gaps"}) {
    INFO(name);
    const Volume v = read_dicom(m[name]["path"].get<std::string>(), o);
    check_volume(v, m[name]);
    REQUIRE(v.header.warnings.size() == 1);
    CHECK(v.header.warnings[0].find("resampled onto a regular grid") != std::string::npos);
    MESSAGE(v.header.warnings[0]);
  }
  // The missing slice's series: the grid is the scanner's own, so every true slice (the one
  // removed included) is a grid slice, within 1e-3 mm.
  const Volume v = read_dicom(m["missing"]["path"].get<std::string>(), o);
  const auto& pos = m["missing"]["true_positions_ras"];
  REQUIRE(int64_t(pos.size()) == v.nz());
  for (int64_t k = 0; k < v.nz(); ++k) {
    const auto got = slice_origin(v.affine, double(k));
    for (int a = 0; a < 3; ++a) CHECK(std::fabs(got[a] - pos[size_t(k)][size_t(a)].get<double>()) <= 1e-3);
  }
}

TEST_CASE("jitter within the tolerance is accepted as it is; a sheared series is refused") {
  auto m = manifest();
  const Volume v = read_dicom(m["jitter"]["path"].get<std::string>());
  check_volume(v, m["jitter"]);
  CHECK(v.header.warnings.empty());
  std::string msg;
  try {
    DicomReadOptions o;
    o.resample_uneven_slices = true;  // resampling does not make a shear acceptable
    read_dicom(m["sheared"]["path"].get<std::string>(), o);
  } catch (const Error& err) {
    CHECK(err.status() == Status::unsupported);
    msg = err.what();
  }
  MESSAGE(msg);
  for (const auto& part : m["sheared"]["message"]) CHECK(msg.find(part.get<std::string>()) != std::string::npos);
}

TEST_CASE("slice grid: tolerance edges, plan and refusal of a grid far denser than the slices") {
  const std::array<double, 3> z = {0, 0, 1};
  auto at = [](std::vector<double> s) {
    std::vector<std::array<double, 3>> p;
    for (double x : s) p.push_back({1.0, 2.0, x});
    return p;
  };
  const std::vector<std::string> l = {"a", "b", "c", "d", "e"};
  // 1% of 2 mm = 0.02 mm: 0.019 off is accepted, 0.03 off is not.
  CHECK(plan_slice_grid(at({0, 2, 4.019, 6, 8}), l, z, 0, "").regular);
  SliceGrid g = plan_slice_grid(at({0, 2, 4.03, 6, 8}), l, z, 0, "");
  CHECK(!g.regular);
  CHECK(g.problem.find("between b and c") != std::string::npos);
  // Missing slice 4: grid 0, 2, 4, 6, 8; slice 4 half-way between 2 and 6.
  g = plan_slice_grid(at({0, 2, 6, 8}), l, z, 0, "");
  REQUIRE(!g.regular);
  REQUIRE(g.count() == 5);
  CHECK(g.lo[2] == 1);
  CHECK(g.w[2] == doctest::Approx(0.5));
  CHECK(g.step[2] == doctest::Approx(2.0));
  CHECK(g.problem.find("a slice may be missing") != std::string::npos);
  // One huge gap among tiny ones: no 10^5-slice grid is built.
  CHECK_THROWS_AS(plan_slice_grid(at({0, 0.001, 0.002, 100}), l, z, 0, ""), Error);
  // In-plane drift of 0.1 mm over 8 mm is a shear.
  auto sheared = at({0, 2, 4, 6, 8});
  sheared[4][0] += 0.1;
  CHECK_THROWS_AS(plan_slice_grid(sheared, l, z, 0, ""), Error);
}
