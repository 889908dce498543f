// Several series under one folder (gen_dicom_series_fixtures.py: a nested export of four series
// written by pydicom from the real data): list_dicom_series finds what pydicom's grouping finds
// (UID, number, description, modality, size, spacing 1e-4 mm, orientation, sequence hints);
// the folder alone is refused with a list of them; each series is read by each selector
// (UID, number, description glob) through read_volume, voxels exactly pydicom's.
#include <doctest/doctest.h>

#include <cmath>

#include "common/fixtures.h"
#include "io/dicom_series.h"
#include "io/volume_io.h"

using namespace vx;

namespace {

nlohmann::json manifest() { return test::read_json(test::fixture_dir("dicom_series") + "/manifest.json"); }

std::string error_of(const std::string& path, Status* status = nullptr) {
  try {
    read_volume(path);
  } catch (const Error& e) {
    if (status) *status = e.status();
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the series of a nested export are listed as pydicom groups them") {
  const auto m = manifest();
  const auto all = list_dicom_series(m["exam"].get<std::string>());
  REQUIRE(all.size() == m["series"].size());
  for (const auto& want : m["series"]) {
    INFO(want["description"].get<std::string>());
    const DicomSeriesInfo* got = nullptr;
    for (const auto& s : all)
      if (s.uid == want["uid"].get<std::string>()) got = &s;
    REQUIRE(got != nullptr);
    CHECK(got->number == want["number"].get<std::string>());
    CHECK(got->description == want["description"].get<std::string>());
    CHECK(got->modality == want["modality"].get<std::string>());
    CHECK(got->cols == want["size"][0].get<int64_t>());
    CHECK(got->rows == want["size"][1].get<int64_t>());
    CHECK(got->slices == want["size"][2].get<int64_t>());
    CHECK(int64_t(got->files.size()) == want["size"][2].get<int64_t>());
    for (int a = 0; a < 3; ++a) CHECK(std::fabs(got->spacing_mm[a] - want["spacing_mm"][a].get<double>()) <= 1e-4);
    CHECK(got->orientation == want["orientation"].get<std::string>());
    CHECK(got->hints == want["hints"].get<std::vector<std::string>>());
  }
  // Listed by SeriesNumber.
  CHECK(all[0].number == "1");
  CHECK(all[3].number == "103");
}

TEST_CASE("a folder of several series without a selector is refused with the list") {
  const auto m = manifest();
  Status st = Status::ok;
  const std::string msg = error_of(m["exam"].get<std::string>(), &st);
  MESSAGE(msg);
  CHECK(st == Status::invalid_argument);
  CHECK(msg.find("holds 4 DICOM series") != std::string::npos);
  for (const auto& s : m["series"]) {
    CHECK(msg.find(s["uid"].get<std::string>()) != std::string::npos);
    CHECK(msg.find("'" + s["description"].get<std::string>() + "'") != std::string::npos);
  }
  CHECK(msg.find("#series-number=N") != std::string::npos);
}

TEST_CASE("each series is read by UID, by number and by description") {
  const auto m = manifest();
  const std::string exam = m["exam"];
  for (const auto& s : m["series"]) {
    const std::string desc = s["description"];
    INFO(desc);
    const Tensor ref = test::read_bin(s["ref"], test::shape_of(s["shape_dhw"]));
    for (const std::string& sel : {"#series=" + s["uid"].get<std::string>(), "#series-number=" + s["number"].get<std::string>(),
                                  "#series-description=" + desc}) {
      INFO(sel);
      const Volume v = read_volume(exam + sel);
      CHECK(test::max_abs_diff(v.data, ref) == 0);
    }
  }
  // A glob, case-insensitive; one that matches two series; one that matches none; a bad key.
  CHECK(read_volume(exam + "#series-description=STIR*").nz() == 20);
  CHECK(error_of(exam + "#series-description=t1_fl2d_sag*").find("2 DICOM series") != std::string::npos);
  CHECK(error_of(exam + "#series-number=7").find("no DICOM series") != std::string::npos);
  Status st = Status::ok;
  CHECK(error_of(exam + "#protocol=x", &st).find("unknown series selector") != std::string::npos);
  CHECK(st == Status::invalid_argument);
  // A folder of one series takes a selector too, and a file does not.
  CHECK(read_volume(exam + "/DICOM/S1#series-number=1").nz() == 3);
  CHECK(error_of(m["series"][0]["ref"].get<std::string>() + "#series-number=1").find("needs a folder") != std::string::npos);
}
