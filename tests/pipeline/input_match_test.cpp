// The rules that choose a pipeline's inputs from a study folder (lib/pipeline/input_match.h),
// on the four-series export of gen_dicom_series_fixtures.py, whose manifest records pydicom's
// reading of each series (description, orientation, hints): the default T1 rule matches the
// T1 and its copy (refused as ambiguous), the STIR rule only the STIR; a declared rule replaces
// the default; unknown keys and sequences without a rule are errors.
#include <doctest/doctest.h>

#include "common/fixtures.h"
#include "core/error.h"
#include "pipeline/input_match.h"

using namespace vx;
using namespace vx::pipeline;

namespace {

nlohmann::json manifest() { return test::read_json(test::fixture_dir("dicom_series") + "/manifest.json"); }

std::string uid_of(const nlohmann::json& m, const std::string& description) {
  for (const auto& s : m["series"])
    if (s["description"] == description) return s["uid"];
  return "";
}

std::string error_of(const std::string& dir, const std::vector<InputRule>& rules) {
  try {
    match_study(dir, rules);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("declared rules pick one series each and report the rest") {
  const auto m = manifest();
  const std::string exam = m["exam"];
  const auto rules = std::vector<InputRule>{
      InputRule::parse("T1", {{"description", "*sag_copy"}, {"orientation", {"sagittal"}}}),
      InputRule::parse("STIR", nlohmann::json())};
  const StudyMatch got = match_study(exam, rules);
  REQUIRE(got.paths.size() == 2);
  CHECK(got.paths[0] == exam + "#series=" + uid_of(m, "t1_fl2d_sag_copy"));
  CHECK(got.paths[1] == exam + "#series=" + uid_of(m, "stir_tra"));
  CHECK(got.report["inputs"][1]["rule"]["hints"] == nlohmann::json{"stir"});
  CHECK(got.report["unused"].size() == m["series"].size() - 2);
}

TEST_CASE("the default T1 rule matches the T1 and its copy: refused, both listed") {
  const auto m = manifest();
  const std::string msg = error_of(m["exam"], {InputRule::parse("T1", nlohmann::json())});
  CHECK(msg.find("2 series") != std::string::npos);
  CHECK(msg.find(uid_of(m, "t1_fl2d_sag")) != std::string::npos);
  CHECK(msg.find(uid_of(m, "t1_fl2d_sag_copy")) != std::string::npos);
  CHECK(msg.find(uid_of(m, "stir_tra")) == std::string::npos);
}

TEST_CASE("a rule matching nothing, one series for two inputs, bad rules") {
  const auto m = manifest();
  const std::string exam = m["exam"];
  CHECK(error_of(exam, {InputRule::parse("T1", {{"orientation", "coronal"}})}).find("no series") != std::string::npos);
  const auto twice = InputRule::parse("STIR", nlohmann::json());
  CHECK(error_of(exam, {twice, twice}).find("matches two inputs") != std::string::npos);
  CHECK_THROWS_WITH_AS(InputRule::parse("T1", {{"echo", 2}}), doctest::Contains("is not a rule"), Error);
  CHECK_THROWS_WITH_AS(InputRule::parse("PD", nlohmann::json()), doctest::Contains("declares no series rule"), Error);
  CHECK_THROWS_AS(InputRule::parse("T1", {{"hints", 3}}), Error);
}

TEST_CASE("a sequence type with an orientation: the type's default tests, a key beside it replaces one") {
  const auto m = manifest();
  const std::string exam = m["exam"];
  const auto stir = InputRule::parse("X", {{"sequence", "STIR"}, {"orientation", "axial"}});
  CHECK(stir.hints == std::vector<std::string>{"stir"});
  CHECK(stir.not_hints == std::vector<std::string>{"localizer"});
  const auto t1 = InputRule::parse("Y", {{"sequence", "t1"}, {"description", "*_copy"}, {"orientation", "sagittal"}});
  CHECK(t1.description == std::vector<std::string>{"*_copy"});
  CHECK(t1.not_hints.size() == 4);
  const StudyMatch got = match_study(exam, {t1, stir});
  CHECK(got.paths[0] == exam + "#series=" + uid_of(m, "t1_fl2d_sag_copy"));
  CHECK(got.paths[1] == exam + "#series=" + uid_of(m, "stir_tra"));
  CHECK(got.report["inputs"][0]["rule_from"] == "declared");
  CHECK(error_of(exam, {InputRule::parse("X", {{"sequence", "stir"}, {"orientation", "sagittal"}})}).find("no series") !=
        std::string::npos);
  CHECK_THROWS_WITH_AS(InputRule::parse("X", {{"sequence", "t3"}}), doctest::Contains("not a sequence type"), Error);
  CHECK_THROWS_WITH_AS(InputRule::parse("X", {{"sequence", 1}}), doctest::Contains("must be a string"), Error);
  CHECK_THROWS_WITH_AS(InputRule::parse("X", {{"orientation", "diagonal"}}), doctest::Contains("not an orientation"), Error);
  CHECK(InputRule::parse("T2", nlohmann::json()).description == std::vector<std::string>{"*t2*"});
}
