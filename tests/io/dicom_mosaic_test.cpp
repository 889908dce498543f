// Siemens mosaics (gen_dicom_mosaic_fixtures.py: 16 slices of a real volume tiled into one image
// by pydicom) are unpacked into a volume equal to nibabel's MosaicWrapper (voxels exact, affine
// 1e-4 mm), with the slice normal's sign from the CSA header; one whose slice count is not
// recorded, and a 4-D time series of mosaics, are refused: never one 2-D image. The CSA parser reads
// the generated header and the real one of the sagittal T1 series (NumberOfImagesInMosaic
// present with no items there), and gives "absent" for every truncation of the generated one.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <vector>

#include "common/fixtures.h"
#include "io/dicom.h"
#include "io/siemens_csa.h"

using namespace vx;

TEST_CASE("a Siemens mosaic is unpacked into its slices as nibabel unpacks it") {
  const auto m = test::read_json(test::fixture_dir("dicom_mosaic") + "/manifest.json");
  for (const char* name : {"full", "csa-only", "flipped"}) {
    INFO(name);
    const auto& e = m[name];
    const Volume v = read_dicom(e["path"].get<std::string>());
    REQUIRE(v.nz() == 16);
    const Tensor ref = test::read_bin(e["ref"], test::shape_of(e["shape_dhw"]));
    CHECK(test::max_abs_diff(v.data, ref) == 0);
    for (int i = 0; i < 16; ++i) CHECK(std::fabs(v.affine[i] - e["affine"][i].get<double>()) <= 1e-4);
  }
  // The real (non-mosaic) Siemens series, whose CSA header names NumberOfImagesInMosaic with no
  // value, still reads as 35 slices.
  CHECK(read_dicom(std::string(VX_TEST_DATA_DIR) + "/mri/dicom-brain-t1-sag-35sl").nz() == 35);
}

TEST_CASE("a mosaic without a slice count, and a time series of mosaics, are refused") {
  const auto m = test::read_json(test::fixture_dir("dicom_mosaic") + "/manifest.json");
  for (const char* name : {"type-only", "two-volumes"}) {
    INFO(name);
    std::string msg;
    Status st = Status::ok;
    try {
      read_dicom(m[name]["path"].get<std::string>());
    } catch (const Error& e) {
      msg = e.what(), st = e.status();
    }
    MESSAGE(msg);
    CHECK(st == Status::unsupported);
    CHECK(msg.find(std::string(name) == "type-only" ? "NumberOfImagesInMosaic" : "4-D") != std::string::npos);
  }
}

TEST_CASE("CSA header values; truncated headers give absent, never a read past the end") {
  const auto m = test::read_json(test::fixture_dir("dicom_mosaic") + "/manifest.json");
  std::ifstream f(m["csa"].get<std::string>(), std::ios::binary);
  const std::vector<uint8_t> csa((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  REQUIRE(csa.size() > 100);
  CHECK(csa_value(csa.data(), csa.size(), "NumberOfImagesInMosaic") == "16");
  CHECK(csa_value(csa.data(), csa.size(), "SliceNormalVector") == "0");
  CHECK(csa_value(csa.data(), csa.size(), "EchoLinePosition") == "64");
  CHECK(csa_value(csa.data(), csa.size(), "NoSuchTag").empty());
  for (size_t n = 0; n < csa.size(); ++n) {
    std::vector<uint8_t> cut(csa.begin(), csa.begin() + long(n));  // exact size: ASan sees any overread
    const std::string v = csa_value(cut.data(), cut.size(), "SliceNormalVector");
    CHECK((v.empty() || v == "0"));
  }
}
