// .hdr/.img pairs (NIfTI 'ni1' and Analyze 7.5, with and without SPM's origin) and NaN
// scl_slope / scl_inter against nibabel (gen_nifti_pair_fixtures.py), through read_volume as
// every caller reads: affine within 1e-5 mm, voxels exact (int16 data, no or finite scaling);
// where nibabel refuses (valid slope, NaN intercept) we refuse with corrupt_file.
#include <doctest/doctest.h>

#include <cmath>

#include "common/fixtures.h"
#include "io/volume_io.h"

using namespace vx;

TEST_CASE("NIfTI pairs, Analyze 7.5 and NaN scaling fields read as nibabel reads them") {
  const auto m = test::read_json(test::fixture_dir("nifti_pair") + "/manifest.json");
  REQUIRE(m.size() == 8);
  for (const auto& [name, e] : m.items()) {
    INFO(name);
    const std::string path = e["path"];
    const std::string status = e["status"];
    if (status != "ok") {
      bool threw = false;
      try {
        read_volume(path);
      } catch (const Error& err) {
        threw = true;
        MESSAGE(std::string(err.what()));
        CHECK(err.status() == (status == "io_error"      ? Status::io_error
                               : status == "unsupported" ? Status::unsupported
                                                         : Status::corrupt_file));
      }
      CHECK(threw);
      continue;
    }
    const Volume v = read_volume(path);
    REQUIRE(v.nx() == e["shape_ijk"][0].get<int64_t>());
    REQUIRE(v.ny() == e["shape_ijk"][1].get<int64_t>());
    REQUIRE(v.nz() == e["shape_ijk"][2].get<int64_t>());
    for (int i = 0; i < 16; ++i) CHECK(std::fabs(v.affine[i] - e["affine"][i].get<double>()) <= 1e-5);
    CHECK(test::max_abs_diff(v.data, test::read_bin(e["ref"], v.data.shape())) == 0);
  }
}
