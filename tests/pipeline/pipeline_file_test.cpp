// Pipeline files (lib/pipeline/pipeline_file.h, weights/FORMAT.md): a valid file parses into
// its models, inputs, plans and stages; every way of getting it wrong is an error naming the
// item (wrong hash, missing model file, unknown step / key / output / plan op, undeclared input
// or model, wrong format or version). The model files are small byte strings whose SHA-256 is
// the FIPS 180-4 test vector ("abc"), so the hash check has an independent oracle. The shipped
// weights/demo.pipeline.json parses against the shipped models and declares N4.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <unistd.h>

#include "core/error.h"
#include "pipeline/pipeline_file.h"

using namespace vx;
using namespace vx::pipeline;
namespace fs = std::filesystem;

namespace {

const char* kAbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";  // FIPS 180-4 B.1

struct Dir {
  fs::path path;
  Dir() {
    path = fs::temp_directory_path() / ("vx_pipeline_file_test_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
    std::ofstream(path / "cls.vxm") << "abc";
    std::ofstream(path / "seg.vxm") << "abc";
  }
  ~Dir() { fs::remove_all(path); }
  std::string write(const std::string& name, const nlohmann::json& j) const {
    std::ofstream((path / name).string()) << j.dump(2);
    return (path / name).string();
  }
};

nlohmann::json valid() {
  return nlohmann::json::parse(std::string(R"({
    "format": "voxinfer-pipeline", "version": 1, "name": "t",
    "models": {"cls": {"file": "cls.vxm", "sha256": ")") + kAbcSha256 + R"("},
               "seg": {"file": "seg.vxm", "sha256": ")" + kAbcSha256 + R"("}},
    "inputs": [{"sequence": "T1", "preprocessing": [{"op": "clip_percentile", "upper": 99}, {"op": "n4"},
                                                     {"op": "resize", "size": [8, 8, 4]}]},
               {"sequence": "STIR", "match": {"hints": ["stir"]}}],
    "stages": [{"step": "classify", "model": "cls", "inputs": ["T1", "STIR"], "gradcam_layers": {"T1": "a", "STIR": "b"}},
               {"step": "segment", "model": "seg", "input": "STIR", "mode": "sliding_window", "overlap": 0.25},
               {"step": "postprocess", "labels": "threshold", "threshold": 0.4, "connectivity": 6}],
    "outputs": ["gradcam", "lesion_mask", "report"]})");
}

std::string error_of(const Dir& d, const nlohmann::json& j) {
  try {
    load_pipeline_file(d.write("t.pipeline.json", j));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a valid pipeline file parses completely") {
  Dir d;
  const PipelineFile p = load_pipeline_file(d.write("t.pipeline.json", valid()));
  REQUIRE(p.models.size() == 2);
  CHECK(p.model("cls")->path == (d.path / "cls.vxm").string());
  CHECK(p.model("nope") == nullptr);
  REQUIRE(p.inputs.size() == 2);
  CHECK(p.input_index("STIR") == 1);
  REQUIRE(p.inputs[0].plan.has_value());
  REQUIRE(p.inputs[0].plan->steps.size() == 3);
  CHECK(p.inputs[0].plan->steps[1].op == "n4");
  CHECK(p.inputs[0].plan->steps[2].size == std::array<int64_t, 3>{8, 8, 4});
  CHECK(!p.inputs[1].plan.has_value());
  CHECK(p.inputs[1].match["hints"][0] == "stir");
  CHECK(p.classify_model == "cls");
  CHECK(p.classify_inputs == std::vector<std::string>{"T1", "STIR"});
  CHECK(p.gradcam_layers.at("STIR") == "b");
  CHECK(!p.denoise_model);
  REQUIRE(p.segment);
  CHECK(p.segment->mode == "sliding_window");
  CHECK(p.segment->overlap == 0.25);
  CHECK(p.postprocess.labels == "threshold");
  CHECK(p.postprocess.threshold == 0.4);
  CHECK(p.postprocess.connectivity == 6);
  CHECK(p.steps == std::vector<std::string>{"classify", "segment", "postprocess"});
  CHECK(p.sha256.size() == 64);
  const auto r = p.report();
  CHECK(r["file"] == "t.pipeline.json");
  CHECK(r["inputs"][0]["preprocessing"][1]["op"] == "n4");
}

TEST_CASE("every error names the item") {
  Dir d;
  struct Case {
    const char* what;
    std::function<void(nlohmann::json&)> edit;
    std::vector<std::string> says;
  };
  const std::vector<Case> cases{
      {"wrong hash", [](auto& j) { j["models"]["seg"]["sha256"] = std::string(64, '0'); },
       {"model 'seg'", kAbcSha256, std::string(64, '0')}},
      {"malformed hash", [](auto& j) { j["models"]["seg"]["sha256"] = "ABC"; }, {"model 'seg'", "64 lower-case hex"}},
      {"missing model file", [](auto& j) { j["models"]["seg"]["file"] = "gone.vxm"; }, {"model 'seg'", "gone.vxm", "does not exist"}},
      {"unknown step", [](auto& j) { j["stages"].push_back({{"step", "sharpen"}}); }, {"unknown step 'sharpen'", "stage 3"}},
      {"undeclared input (segment)", [](auto& j) { j["stages"][1]["input"] = "FLAIR"; }, {"'segment'", "input 'FLAIR'"}},
      {"undeclared input (classify)", [](auto& j) { j["stages"][0]["inputs"][1] = "T2"; }, {"'classify'", "input 'T2'"}},
      {"undeclared input (gradcam)", [](auto& j) { j["stages"][0]["gradcam_layers"]["PD"] = "x"; }, {"input 'PD'"}},
      {"undeclared model", [](auto& j) { j["stages"][1]["model"] = "other"; }, {"model 'other'"}},
      {"unknown top-level key", [](auto& j) { j["modles"] = 1; }, {"unknown key 'modles'"}},
      {"unknown stage key", [](auto& j) { j["stages"][1]["overlapp"] = 0.5; }, {"'segment'", "unknown key 'overlapp'"}},
      {"unknown input key", [](auto& j) { j["inputs"][1]["preprocess"] = nlohmann::json::array(); }, {"input 1", "unknown key 'preprocess'"}},
      {"unknown model key", [](auto& j) { j["models"]["cls"]["hash"] = "x"; }, {"model 'cls'", "unknown key 'hash'"}},
      {"unknown plan op", [](auto& j) { j["inputs"][0]["preprocessing"][1]["op"] = "n5"; }, {"input 'T1'", "n5"}},
      {"unknown plan parameter", [](auto& j) { j["inputs"][0]["preprocessing"][1]["iteration"] = 3; }, {"input 'T1'", "iteration"}},
      {"unknown output", [](auto& j) { j["outputs"].push_back("movie"); }, {"unknown output \"movie\""}},
      {"no report", [](auto& j) { j["outputs"] = {"gradcam"}; }, {"\"report\""}},
      {"denoised without denoise", [](auto& j) { j["outputs"].push_back("denoised"); }, {"\"denoised\"", "\"denoise\" stage"}},
      {"no classify", [](auto& j) { j["stages"].erase(0); }, {"\"classify\" stage"}},
      {"step twice", [](auto& j) { j["stages"].push_back(j["stages"][1]); }, {"'segment'", "once"}},
      {"bad mode", [](auto& j) { j["stages"][1]["mode"] = "whole"; }, {"\"mode\"", "whole"}},
      {"bad overlap", [](auto& j) { j["stages"][1]["overlap"] = 1.0; }, {"\"overlap\""}},
      {"bad connectivity", [](auto& j) { j["stages"][2]["connectivity"] = 8; }, {"\"connectivity\""}},
      {"bad type", [](auto& j) { j["stages"][1]["batch_size"] = "eight"; }, {"\"batch_size\"", "wrong type"}},
      {"duplicate input", [](auto& j) { j["inputs"][1]["sequence"] = "T1"; }, {"input 'T1'", "twice"}},
      {"wrong format", [](auto& j) { j["format"] = "voxinfer-pipe"; }, {"\"format\""}},
      {"newer version", [](auto& j) { j["version"] = 2; }, {"\"version\" must be 1"}},
      {"no models", [](auto& j) { j["models"] = nlohmann::json::object(); }, {"\"models\""}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    nlohmann::json j = valid();
    c.edit(j);
    const std::string e = error_of(d, j);
    REQUIRE(!e.empty());
    CHECK(e.find("t.pipeline.json") != std::string::npos);
    for (const auto& s : c.says) {
      CAPTURE(e);
      CHECK(e.find(s) != std::string::npos);
    }
  }
  // Not JSON at all, and no file.
  std::ofstream((d.path / "bad.pipeline.json").string()) << "{\"format\": ";
  CHECK_THROWS_WITH_AS(load_pipeline_file((d.path / "bad.pipeline.json").string()), doctest::Contains("not valid JSON"), Error);
  CHECK_THROWS_AS(load_pipeline_file((d.path / "absent.pipeline.json").string()), Error);
}

TEST_CASE("find_pipeline_file: none, one, several") {
  Dir d;
  CHECK(find_pipeline_file(d.path.string()).empty());
  const std::string one = d.write("a.pipeline.json", valid());
  CHECK(find_pipeline_file(d.path.string()) == one);
  d.write("b.pipeline.json", valid());
  CHECK_THROWS_WITH_AS(find_pipeline_file(d.path.string()), doctest::Contains("several pipeline files"), Error);
}

TEST_CASE("the shipped demo pipeline names the shipped models and runs N4 on both inputs") {
  const PipelineFile p = load_pipeline_file(std::string(VX_SOURCE_DIR) + "/weights/demo.pipeline.json");
  CHECK(p.model(p.classify_model)->file == "demo_classifier.vxm");
  REQUIRE(p.denoise_model);
  REQUIRE(p.segment);
  CHECK(p.segment->mode == "slices");
  REQUIRE(p.inputs.size() == 2);
  for (const auto& in : p.inputs) {
    REQUIRE(in.plan);
    std::vector<std::string> ops;
    for (const auto& s : in.plan->steps) ops.push_back(s.op);
    CHECK(ops == std::vector<std::string>{"resize", "clip_percentile", "n4"});
    CHECK(in.plan->steps[1].upper == 99);
  }
}
