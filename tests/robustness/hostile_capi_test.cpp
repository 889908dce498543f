// Every file of the hostile manifest ($VX_FIXTURE_DIR/hostile/manifest.json, written by
// gen_hostile_fixtures.py) must be refused with a non-OK status and a non-empty message,
// and the valid controls must load (so a reader that refuses everything fails this test).
// Everything goes through the public C API: models with vx_model_load, volumes (NIfTI and
// DICOM) with vx_volume_read. The command-line variant is tests/robustness/test_cli_hostile.py.
#include <doctest/doctest.h>

#include <string>

#include "common/fixtures.h"
#include "core/error.h"
#include "voxinfer/voxinfer.h"

namespace {

struct Outcome {
  bool ok = false;
  std::string message;
};

Outcome read_volume(const std::string& path) {
  vx_volume* v = reinterpret_cast<vx_volume*>(0x1);  // must be reset to NULL on failure
  const vx_status st = vx_volume_read(path.c_str(), nullptr, &v);
  if (st == VX_OK) {
    CHECK(vx_volume_free(v) == VX_OK);
    return {true, ""};
  }
  if (v != nullptr) return {true, "vx_volume_read failed but left *out non-NULL"};
  return {false, vx_last_error()};
}

Outcome load_model(const std::string& path) {
  vx_model* m = reinterpret_cast<vx_model*>(0x1);  // must be reset to NULL on failure
  const vx_status st = vx_model_load(path.c_str(), nullptr, &m);
  if (st == VX_OK) {
    CHECK(vx_model_free(m) == VX_OK);
    return {true, ""};
  }
  if (m != nullptr) return {true, "vx_model_load failed but left *out non-NULL"};
  const char* msg = vx_last_error();
  return {false, msg ? msg : ""};
}

}  // namespace

TEST_CASE("every hostile file is refused with a status and a message") {
  const std::string dir = vx::test::fixture_dir("hostile");
  const nlohmann::json m = vx::test::read_json(dir + "/manifest.json");
  REQUIRE(m["cases"].size() >= 80);
  int volumes = 0, dicoms = 0, models = 0;
  for (const auto& c : m["cases"]) {
    const std::string file = c["file"], kind = c["kind"], why = c["why"];
    CAPTURE(file);
    CAPTURE(why);
    const std::string path = dir + "/" + file;
    Outcome r;
    if (kind == "model") {
      r = load_model(path), ++models;
    } else {
      REQUIRE((kind == "volume" || kind == "dicom"));
      r = read_volume(path), kind == "dicom" ? ++dicoms : ++volumes;
    }
    CHECK_MESSAGE(!r.ok, "accepted: " << r.message);
    CHECK(!r.message.empty());
  }
  CHECK(volumes > 50);
  CHECK(dicoms >= 10);
  CHECK(models >= 4);
}

TEST_CASE("the valid controls load") {
  const std::string dir = vx::test::fixture_dir("hostile");
  const nlohmann::json m = vx::test::read_json(dir + "/manifest.json");
  for (const char* key : {"valid", "valid_nifti2", "valid_misnamed"}) {
    CAPTURE(key);
    const std::string path = dir + "/" + m[key].get<std::string>();
    vx_volume* v = nullptr;
    REQUIRE_MESSAGE(vx_volume_read(path.c_str(), nullptr, &v) == VX_OK, vx_last_error());
    int64_t dims[3] = {0, 0, 0};
    CHECK(vx_volume_dims(v, dims) == VX_OK);
    CHECK(dims[0] * dims[1] * dims[2] > 0);
    CHECK(vx_volume_free(v) == VX_OK);
  }
  // The same status and message reach C callers: a missing model file is an I/O error.
  vx_model* model = nullptr;
  CHECK(vx_model_load((dir + "/no-such-model.vxm").c_str(), nullptr, &model) == VX_ERR_IO);
  CHECK(model == nullptr);
  CHECK(std::string(vx_last_error()).find("no-such-model.vxm") != std::string::npos);
}
