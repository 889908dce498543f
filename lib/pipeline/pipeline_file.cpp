#include "pipeline/pipeline_file.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/sha256.h"
#include "pipeline/input_match.h"

namespace fs = std::filesystem;

namespace vx::pipeline {
namespace {

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  fail(Status::invalid_argument, "pipeline file " + where + ": " + what);
}

// Refuses any key of `obj` not in `allowed`, naming `item`.
void only_keys(const nlohmann::json& obj, const std::set<std::string>& allowed, const std::string& file,
               const std::string& item) {
  if (!obj.is_object()) bad(file, item + " must be an object");
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (!allowed.count(it.key())) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      bad(file, item + ": unknown key '" + it.key() + "' (known: " + list + ")");
    }
}

std::string need_string(const nlohmann::json& obj, const char* key, const std::string& file, const std::string& item) {
  if (!obj.contains(key) || !obj[key].is_string() || obj[key].get<std::string>().empty())
    bad(file, item + " needs \"" + key + "\" (a non-empty string)");
  return obj[key].get<std::string>();
}

template <typename T>
T get_or(const nlohmann::json& obj, const char* key, T fallback, const std::string& file, const std::string& item) {
  if (!obj.contains(key)) return fallback;
  try {
    return obj[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    bad(file, item + ": \"" + key + "\" has the wrong type");
  }
}

std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(Status::io_error, "cannot read '" + path + "'");
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  return h.hex_digest();
}

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

const PipelineModel* PipelineFile::model(const std::string& n) const {
  for (const auto& m : models)
    if (m.name == n) return &m;
  return nullptr;
}

int PipelineFile::input_index(const std::string& sequence) const {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].sequence == sequence) return static_cast<int>(i);
  return -1;
}

nlohmann::json PipelineFile::report() const {
  nlohmann::json r = {{"file", fs::path(path).filename().string()}, {"path", path}, {"sha256", sha256},
                      {"name", name}, {"steps", steps}};
  for (const auto& in : inputs)
    r["inputs"].push_back({{"sequence", in.sequence}, {"preprocessing", in.plan ? in.plan_json : nlohmann::json("resize to the network grid")}});
  return r;
}

PipelineFile parse_pipeline(const std::string& text, const std::string& path) {
  const std::string f = "'" + path + "'";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    bad(f, std::string("not valid JSON: ") + e.what());
  }
  only_keys(j, {"format", "version", "name", "description", "models", "inputs", "stages", "outputs"}, f, "the top level");
  if (!j.contains("format") || j["format"] != "voxinfer-pipeline") bad(f, "\"format\" must be \"voxinfer-pipeline\"");
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int>() != 1)
    bad(f, "\"version\" must be 1 (this reader knows version 1 only)");

  PipelineFile p;
  p.path = path;
  p.name = get_or<std::string>(j, "name", fs::path(path).stem().stem().string(), f, "the top level");
  const fs::path base = fs::path(path).parent_path();

  // Models: every file present, with the declared hash.
  if (!j.contains("models") || !j["models"].is_object() || j["models"].empty()) bad(f, "\"models\" must name at least one model");
  for (auto it = j["models"].begin(); it != j["models"].end(); ++it) {
    const std::string item = "model '" + it.key() + "'";
    only_keys(it.value(), {"file", "sha256", "description"}, f, item);
    PipelineModel m;
    m.name = it.key();
    m.file = need_string(it.value(), "file", f, item);
    m.sha256 = need_string(it.value(), "sha256", f, item);
    if (!is_hex64(m.sha256)) bad(f, item + ": \"sha256\" must be 64 lower-case hex digits");
    m.path = (base / m.file).string();
    if (!fs::is_regular_file(m.path)) fail(Status::io_error, "pipeline file " + f + ": " + item + ": its file '" + m.path + "' does not exist");
    const std::string actual = file_sha256(m.path);
    if (actual != m.sha256)
      bad(f, item + ": '" + m.path + "' has SHA-256 " + actual + ", the pipeline declares " + m.sha256 +
                 " (a different model file than the one this pipeline was written for)");
    p.models.push_back(m);
  }

  // Inputs.
  if (!j.contains("inputs") || !j["inputs"].is_array() || j["inputs"].empty()) bad(f, "\"inputs\" must list at least one input");
  for (size_t i = 0; i < j["inputs"].size(); ++i) {
    const auto& ji = j["inputs"][i];
    std::string item = "input " + std::to_string(i);
    only_keys(ji, {"sequence", "match", "preprocessing"}, f, item);
    PipelineInput in;
    in.sequence = need_string(ji, "sequence", f, item);
    item = "input '" + in.sequence + "'";
    if (p.input_index(in.sequence) >= 0) bad(f, item + " is declared twice");
    if (ji.contains("match")) {
      if (!ji["match"].is_object()) bad(f, item + ": \"match\" must be an object (weights/FORMAT.md inputs[].match)");
      in.match = ji["match"];
      try {  // checked now, not when a study is matched
        InputRule::parse(in.sequence, in.match);
      } catch (const Error& e) {
        bad(f, e.what());
      }
    }
    if (ji.contains("preprocessing")) {
      in.plan_json = ji["preprocessing"];
      try {
        in.plan = preprocess::plan_from_json(in.plan_json);
      } catch (const Error& e) {
        bad(f, item + ": preprocessing: " + e.what());
      }
    }
    p.inputs.push_back(in);
  }
  auto need_input = [&](const std::string& seq, const std::string& item) {
    if (p.input_index(seq) < 0) bad(f, item + " names input '" + seq + "', which \"inputs\" does not declare");
  };
  auto need_model = [&](const nlohmann::json& st, const std::string& item) {
    const std::string m = need_string(st, "model", f, item);
    if (!p.model(m)) bad(f, item + " names model '" + m + "', which \"models\" does not declare");
    return m;
  };

  // Stages.
  if (!j.contains("stages") || !j["stages"].is_array()) bad(f, "\"stages\" must be an array");
  std::set<std::string> seen;
  for (size_t s = 0; s < j["stages"].size(); ++s) {
    const auto& st = j["stages"][s];
    if (!st.is_object() || !st.contains("step") || !st["step"].is_string()) bad(f, "stage " + std::to_string(s) + " needs \"step\"");
    const std::string step = st["step"].get<std::string>();
    const std::string item = "stage " + std::to_string(s) + " ('" + step + "')";
    if (seen.count(step)) bad(f, item + ": a pipeline runs each step once");
    seen.insert(step);
    if (step == "denoise") {
      only_keys(st, {"step", "model"}, f, item);
      p.denoise_model = need_model(st, item);
    } else if (step == "classify") {
      only_keys(st, {"step", "model", "inputs", "use_denoised", "gradcam_layers"}, f, item);
      p.classify_model = need_model(st, item);
      p.classify_denoised = get_or<bool>(st, "use_denoised", true, f, item);
      if (!st.contains("inputs") || !st["inputs"].is_array() || st["inputs"].empty()) bad(f, item + " needs \"inputs\" (sequence names)");
      for (const auto& seq : st["inputs"]) {
        if (!seq.is_string()) bad(f, item + ": \"inputs\" must hold sequence names");
        need_input(seq.get<std::string>(), item);
        p.classify_inputs.push_back(seq.get<std::string>());
      }
      if (st.contains("gradcam_layers")) {
        if (!st["gradcam_layers"].is_object()) bad(f, item + ": \"gradcam_layers\" must map sequence names to layer names");
        for (auto it = st["gradcam_layers"].begin(); it != st["gradcam_layers"].end(); ++it) {
          need_input(it.key(), item + " gradcam_layers");
          if (!it.value().is_string()) bad(f, item + ": gradcam layer of '" + it.key() + "' must be a string");
          p.gradcam_layers[it.key()] = it.value().get<std::string>();
        }
      }
    } else if (step == "segment") {
      only_keys(st, {"step", "model", "input", "mode", "batch_size", "overlap", "gaussian", "mirror"}, f, item);
      SegmentStage sg;
      sg.model = need_model(st, item);
      sg.input = need_string(st, "input", f, item);
      need_input(sg.input, item);
      sg.mode = get_or<std::string>(st, "mode", "slices", f, item);
      if (sg.mode != "slices" && sg.mode != "sliding_window") bad(f, item + ": \"mode\" must be \"slices\" or \"sliding_window\", not '" + sg.mode + "'");
      sg.batch_size = get_or<int>(st, "batch_size", 8, f, item);
      sg.overlap = get_or<double>(st, "overlap", 0.5, f, item);
      sg.gaussian = get_or<bool>(st, "gaussian", true, f, item);
      sg.mirror = get_or<bool>(st, "mirror", false, f, item);
      if (sg.batch_size < 1 || sg.batch_size > 1024) bad(f, item + ": \"batch_size\" must be in [1, 1024]");
      if (!(sg.overlap >= 0 && sg.overlap < 1)) bad(f, item + ": \"overlap\" must be in [0, 1)");
      p.segment = sg;
    } else if (step == "postprocess") {
      only_keys(st, {"step", "labels", "threshold", "lesion_class", "connectivity", "lesion_score"}, f, item);
      auto& pp = p.postprocess;
      pp.labels = get_or<std::string>(st, "labels", "argmax", f, item);
      if (pp.labels != "argmax" && pp.labels != "threshold") bad(f, item + ": \"labels\" must be \"argmax\" or \"threshold\", not '" + pp.labels + "'");
      pp.threshold = get_or<double>(st, "threshold", 0.5, f, item);
      if (!(pp.threshold > 0 && pp.threshold < 1)) bad(f, item + ": \"threshold\" must be in (0, 1)");
      pp.lesion_class = get_or<std::string>(st, "lesion_class", "lesion", f, item);
      pp.connectivity = get_or<int>(st, "connectivity", 26, f, item);
      if (pp.connectivity != 6 && pp.connectivity != 18 && pp.connectivity != 26) bad(f, item + ": \"connectivity\" must be 6, 18 or 26");
      pp.lesion_score = get_or<bool>(st, "lesion_score", true, f, item);
    } else {
      bad(f, item + ": unknown step '" + step + "' (known: denoise, classify, segment, postprocess)");
    }
    p.steps.push_back(step);
  }
  if (p.classify_model.empty()) bad(f, "\"stages\" needs a \"classify\" stage");
  if (seen.count("postprocess") && !p.segment) bad(f, "a \"postprocess\" stage needs a \"segment\" stage");

  // Outputs.
  const std::set<std::string> known_outputs{"report", "denoised", "gradcam", "lesion_mask", "png"};
  if (!j.contains("outputs") || !j["outputs"].is_array()) bad(f, "\"outputs\" must list the outputs");
  for (const auto& o : j["outputs"]) {
    if (!o.is_string() || !known_outputs.count(o.get<std::string>()))
      bad(f, "unknown output " + o.dump() + " (known: denoised, gradcam, lesion_mask, png, report)");
    p.outputs.push_back(o.get<std::string>());
  }
  auto has = [&](const char* o) { return std::find(p.outputs.begin(), p.outputs.end(), o) != p.outputs.end(); };
  if (!has("report")) bad(f, "\"outputs\" must include \"report\"");
  if (has("denoised") && !p.denoise_model) bad(f, "output \"denoised\" needs a \"denoise\" stage");
  if (has("lesion_mask") && !p.segment) bad(f, "output \"lesion_mask\" needs a \"segment\" stage");
  p.sha256 = sha256_hex(text.data(), text.size());
  return p;
}

PipelineFile load_pipeline_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(Status::io_error, "cannot read the pipeline file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_pipeline(ss.str(), path);
}

std::string find_pipeline_file(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() > 14 && n.compare(n.size() - 14, 14, ".pipeline.json") == 0) found.push_back(e.path().string());
  }
  std::sort(found.begin(), found.end());
  if (found.size() > 1) {
    std::string list;
    for (const auto& p : found) list += "\n  " + p;
    fail(Status::invalid_argument, "several pipeline files in '" + dir + "', name one with --pipeline:" + list);
  }
  return found.empty() ? "" : found[0];
}

}  // namespace vx::pipeline
