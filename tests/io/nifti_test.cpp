// NIfTI reader/writer against nibabel (fixtures from gen_nifti_fixtures.py).
// Tolerances: affine 1e-5 absolute (nibabel and nifti_clib decode the same float32 fields
// in double), voxels 1e-5 relative to max(1, |ref|), shapes exact.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "image/geometry.h"
#include "io/nifti.h"

using namespace vx;

namespace {

nlohmann::json manifest() {
  std::ifstream f(std::string(VX_FIXTURE_DIR) + "/nifti/manifest.json");
  REQUIRE_MESSAGE(f.good(), "run the fixture gen_nifti_fixtures.py first");
  return nlohmann::json::parse(f);
}

std::vector<float> read_f32(const std::string& path, size_t n) {
  std::vector<float> v(n);
  std::ifstream f(path, std::ios::binary);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * 4));
  REQUIRE(f.gcount() == static_cast<std::streamsize>(n * 4));
  return v;
}

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

void check_affine(const Mat4& a, const nlohmann::json& ref, const std::string& what) {
  for (int i = 0; i < 16; ++i) {
    INFO(what << " affine[" << i << "]");
    CHECK(std::fabs(a[i] - ref[i].get<double>()) <= 1e-5);
  }
}

size_t count_mismatch(const float* got, const std::vector<float>& ref, double rel) {
  size_t bad = 0;
  for (size_t i = 0; i < ref.size(); ++i)
    if (!(std::fabs(double(got[i]) - ref[i]) <= rel * std::max(1.0, std::fabs(double(ref[i]))))) ++bad;
  return bad;
}

std::string status_name(Status s) {
  switch (s) {
    case Status::corrupt_file: return "corrupt_file";
    case Status::io_error: return "io_error";
    case Status::unsupported: return "unsupported";
    case Status::limit_exceeded: return "limit_exceeded";
    case Status::invalid_argument: return "invalid_argument";
    default: return "other";
  }
}

std::string tmp_dir() {
  std::string d = std::string(VX_FIXTURE_DIR) + "/nifti/out";
  ::mkdir(d.c_str(), 0755);
  return d;
}

}  // namespace

TEST_CASE("every NIfTI under tests/data/mri and every synthetic file matches nibabel") {
  auto m = manifest();
  REQUIRE(m["valid"].size() >= 30);
  for (const auto& e : m["valid"]) {
    const std::string name = e["name"];
    INFO(name);
    Volume v = read_nifti(e["path"]);
    REQUIRE(v.nx() == e["shape"][0].get<int64_t>());
    REQUIRE(v.ny() == e["shape"][1].get<int64_t>());
    REQUIRE(v.nz() == e["shape"][2].get<int64_t>());
    check_affine(v.affine, e["affine"], name);
    CHECK(axcodes(v.affine) == e["axcodes"].get<std::string>());
    auto ref = read_f32(e["ref"], static_cast<size_t>(v.data.numel()));
    CHECK(count_mismatch(v.voxels(), ref, 1e-5) == 0);
  }
}

TEST_CASE("the six orientation files give the same RAS volume; reorienting back restores them") {
  auto m = manifest();
  const std::string dir = std::string(VX_TEST_DATA_DIR) + "/mri/orientation-icbm152-48/";
  Volume ras = read_nifti(dir + "RAS.nii.gz");
  REQUIRE(axcodes(ras.affine) == "RAS");
  for (const char* code : {"RAS", "LAS", "LPS", "RPI", "PSR", "AIL"}) {
    INFO(code);
    Volume v = read_nifti(dir + code + ".nii.gz");
    CHECK(axcodes(v.affine) == code);
    Volume c = reorient(v, "RAS");
    check_affine(c.affine, m["canonical"][code]["affine"], code);
    REQUIRE(c.data.shape() == ras.data.shape());
    size_t diff = 0;
    for (int64_t i = 0; i < c.data.numel(); ++i) diff += c.voxels()[i] != ras.voxels()[i];
    CHECK(diff == 0);
    Volume back = reorient(c, code);
    REQUIRE(back.data.shape() == v.data.shape());
    for (int i = 0; i < 16; ++i) CHECK(std::fabs(back.affine[i] - v.affine[i]) < 1e-9);
    diff = 0;
    for (int64_t i = 0; i < v.data.numel(); ++i) diff += back.voxels()[i] != v.voxels()[i];
    CHECK(diff == 0);
  }
  CHECK_THROWS_AS(reorient(ras, "RAR"), Error);
  CHECK_THROWS_AS(reorient(ras, "XYZ"), Error);
}

TEST_CASE("write then read keeps geometry, codes and voxels (NIfTI-1 and -2, .nii and .nii.gz)") {
  auto m = manifest();
  const std::string out = tmp_dir();
  int n = 0;
  for (const auto& e : m["valid"]) {
    const std::string name = e["name"];
    if (name.find("brain-t1-chris") != std::string::npos) continue;  // large; same code path as others
    INFO(name);
    Volume v = read_nifti(e["path"]);
    for (const char* ext : {".nii", ".nii.gz"}) {
      const std::string p = out + "/rt_" + std::to_string(n++) + ext;
      write_nifti(p, v);
      Volume w = read_nifti(p);
      REQUIRE(w.data.shape() == v.data.shape());
      for (int i = 0; i < 16; ++i) CHECK(std::fabs(w.affine[i] - v.affine[i]) <= 1e-5);
      CHECK(w.header.nifti_version == v.header.nifti_version);
      if (v.header.sform_code > 0 || v.header.qform_code > 0) {
        CHECK(w.header.sform_code == v.header.sform_code);
        CHECK(w.header.qform_code == v.header.qform_code);
      }
      CHECK(w.header.source_datatype == 16);
      size_t diff = 0;
      for (int64_t i = 0; i < v.data.numel(); ++i) diff += w.voxels()[i] != v.voxels()[i];
      CHECK(diff == 0);
      std::remove(p.c_str());
    }
  }
  CHECK(n > 40);
}

TEST_CASE("hostile NIfTI files fail with a clear vx::Error") {
  auto m = manifest();
  REQUIRE(m["hostile"].size() >= 15);
  for (const auto& e : m["hostile"]) {
    const std::string path = e["path"];
    INFO(path << " (" << e["what"].get<std::string>() << ")");
    NiftiReadOptions opts;
    opts.max_bytes = size_t(512) << 20;  // keep a wrong guess from allocating much
    bool threw = false;
    try {
      read_nifti(path, opts);
    } catch (const Error& err) {
      threw = true;
      CHECK(status_name(err.status()) == e["status"].get<std::string>());
      CHECK(std::string(err.what()).find(path) != std::string::npos);
      MESSAGE(std::string(err.what()));
    }
    CHECK(threw);
  }
}

TEST_CASE("NaN/Inf voxels can be replaced by zero on request") {
  const std::string p = std::string(VX_FIXTURE_DIR) + "/nifti/hostile/nan_inf.nii.gz";
  NiftiReadOptions opts;
  opts.non_finite = NonFinitePolicy::replace_with_zero;
  Volume v = read_nifti(p, opts);
  int zeros = 0;
  for (int64_t i = 0; i < v.data.numel(); ++i) {
    CHECK(std::isfinite(v.voxels()[i]));
    zeros += v.voxels()[i] == 0.f;
  }
  CHECK(zeros == 2);
  // nibabel index [1, 2, 3] = (i=1, j=2, k=3) -> flat i + 8 j + 64 k
  CHECK(v.voxels()[1 + 8 * 2 + 64 * 3] == 0.f);
}

TEST_CASE("a failed write leaves no file and keeps an existing destination") {
  const std::string out = tmp_dir();
  Volume v = read_nifti(std::string(VX_FIXTURE_DIR) + "/nifti/hostile/good.nii.gz");
  const std::string missing_dir = out + "/no/such/dir/x.nii.gz";
  CHECK_THROWS_AS(write_nifti(missing_dir, v), Error);
  CHECK_FALSE(exists(missing_dir));
  CHECK_THROWS_AS(write_nifti(out + "/bad_extension.img", v), Error);
  CHECK_FALSE(exists(out + "/bad_extension.img"));
  // writing over an existing file replaces it atomically; a bad volume leaves it untouched
  const std::string dst = out + "/keep.nii";
  write_nifti(dst, v);
  Volume bad = v;
  bad.affine = Mat4{};  // singular
  CHECK_THROWS_AS(write_nifti(dst, bad), Error);
  Volume again = read_nifti(dst);
  CHECK(again.voxels()[0] == v.voxels()[0]);
  // no temporary files left behind in the directory
  std::string cmd = "ls -a '" + out + "' | grep -c '\\.tmp-' > '" + out + "/tmpcount.txt'";
  CHECK(std::system(cmd.c_str()) >= 0);
  std::ifstream f(out + "/tmpcount.txt");
  int count = -1;
  f >> count;
  CHECK(count == 0);
}
