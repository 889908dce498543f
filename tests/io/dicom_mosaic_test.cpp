// Siemens mosaics (gen_dicom_mosaic_fixtures.py: 16 slices of a real volume tiled into one image
// by pydicom) are refused, never read as one 2-D image, whichever way they are marked: ImageType
// MOSAIC, the CSA header's NumberOfImagesInMosaic, the private (0019,100A). The CSA parser reads
// the generated header and the real one of the sagittal T1 series (NumberOfImagesInMosaic
// present with no items there), and gives "absent" for every truncation of the generated one.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "common/fixtures.h"
#include "io/dicom.h"
#include "io/siemens_csa.h"

using namespace vx;

TEST_CASE("a Siemens mosaic is refused, however it is marked") {
  const auto m = test::read_json(test::fixture_dir("dicom_mosaic") + "/manifest.json");
  for (const char* name : {"full", "csa-only", "type-only"}) {
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
    CHECK(msg.find("Siemens mosaic") != std::string::npos);
    CHECK(msg.find("468x364") != std::string::npos);
    if (m[name]["slices"].get<int>() > 0) CHECK(msg.find("16 slices") != std::string::npos);
  }
  // The real (non-mosaic) Siemens series still reads.
  CHECK(read_dicom(std::string(VX_TEST_DATA_DIR) + "/mri/dicom-brain-t1-sag-35sl").nz() == 35);
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
