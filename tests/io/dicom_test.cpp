// DICOM reader against a pydicom reference (gen_dicom_fixtures.py) for the three DICOM sets
// in tests/data/mri, and for three re-encodings of one of them (big endian; signed 12-bit with
// junk in the unused high bits; RLE Lossless), expected values from the original pixels.
// Tolerances: affine 1e-4 mm (DS strings parsed by both), voxels exact
// (integers times slope/intercept 1e-5 relative), shapes exact.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "io/dicom.h"
#include "io/nifti.h"

using namespace vx;

namespace {

nlohmann::json manifest() {
  std::ifstream f(std::string(VX_FIXTURE_DIR) + "/dicom/manifest.json");
  REQUIRE_MESSAGE(f.good(), "run gen_dicom_fixtures.py first");
  return nlohmann::json::parse(f);
}

std::string status_name(Status s) {
  switch (s) {
    case Status::corrupt_file: return "corrupt_file";
    case Status::io_error: return "io_error";
    case Status::unsupported: return "unsupported";
    case Status::invalid_argument: return "invalid_argument";
    case Status::limit_exceeded: return "limit_exceeded";
    default: return "other";
  }
}

}  // namespace

TEST_CASE("DICOM series, enhanced multi-frame, big-endian, signed 12-bit and RLE re-encodings match the reference") {
  auto m = manifest();
  REQUIRE(m["valid"].size() == 6);
  for (const auto& e : m["valid"]) {
    INFO(e["name"].get<std::string>());
    Volume v = read_dicom(e["path"]);
    REQUIRE(v.nz() == e["shape_dhw"][0].get<int64_t>());
    REQUIRE(v.ny() == e["shape_dhw"][1].get<int64_t>());
    REQUIRE(v.nx() == e["shape_dhw"][2].get<int64_t>());
    for (int i = 0; i < 16; ++i) CHECK(std::fabs(v.affine[i] - e["affine"][i].get<double>()) <= 1e-4);
    std::vector<float> ref(static_cast<size_t>(v.data.numel()));
    std::ifstream f(e["ref"].get<std::string>(), std::ios::binary);
    f.read(reinterpret_cast<char*>(ref.data()), static_cast<std::streamsize>(ref.size() * 4));
    REQUIRE(f.gcount() == static_cast<std::streamsize>(ref.size() * 4));
    size_t bad = 0;
    for (size_t i = 0; i < ref.size(); ++i)
      bad += !(std::fabs(v.voxels()[i] - ref[i]) <= 1e-5 * std::max(1.f, std::fabs(ref[i])));
    CHECK(bad == 0);
  }
}

TEST_CASE("sagittal series: slices sorted along the normal, 4.8 mm apart; NIfTI round trip keeps the affine") {
  Volume v = read_dicom(std::string(VX_TEST_DATA_DIR) + "/mri/dicom-brain-t1-sag-35sl");
  auto sp = spacing(v);
  CHECK(sp[0] == doctest::Approx(1.015625).epsilon(1e-6));
  CHECK(sp[1] == doctest::Approx(1.015625).epsilon(1e-6));
  CHECK(sp[2] == doctest::Approx(4.8).epsilon(1e-4));
  CHECK(axcodes(v.affine)[0] != '?');
  const std::string out = std::string(VX_FIXTURE_DIR) + "/dicom/sag.nii.gz";
  write_nifti(out, v);
  Volume w = read_nifti(out);
  for (int i = 0; i < 16; ++i) CHECK(std::fabs(w.affine[i] - v.affine[i]) <= 1e-4);
  std::remove(out.c_str());
}

TEST_CASE("hostile DICOM inputs fail with a clear vx::Error") {
  auto m = manifest();
  for (const auto& e : m["hostile"]) {
    const std::string path = e["path"];
    INFO(path << " (" << e["what"].get<std::string>() << ")");
    bool threw = false;
    try {
      read_dicom(path);
    } catch (const Error& err) {
      threw = true;
      CHECK(status_name(err.status()) == e["status"].get<std::string>());
      MESSAGE(std::string(err.what()));
    }
    CHECK(threw);
  }
}
