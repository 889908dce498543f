#include "pipeline/input_match.h"

#include <fnmatch.h>

#include <algorithm>

#include "core/error.h"
#include "pipeline/model_meta.h"

namespace vx::pipeline {
namespace {

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

bool glob(const std::string& pattern, const std::string& text) {
  return !text.empty() && ::fnmatch(pattern.c_str(), text.c_str(), FNM_CASEFOLD) == 0;
}

std::vector<std::string> strings(const nlohmann::json& v, const std::string& where) {
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) fail(Status::invalid_argument, where + " must be a string or a list of strings");
  std::vector<std::string> out;
  for (const auto& x : v) {
    if (!x.is_string()) fail(Status::invalid_argument, where + " must be a string or a list of strings");
    out.push_back(x.get<std::string>());
  }
  return out;
}

nlohmann::json series_entry(const DicomSeriesInfo& s) {
  return {{"series_instance_uid", s.uid}, {"series_number", s.number}, {"series_description", s.description},
          {"orientation", s.orientation}, {"hints", s.hints}, {"size", {s.cols, s.rows, s.slices}}};
}

}  // namespace

bool InputRule::matches(const DicomSeriesInfo& s) const {
  if (!modality.empty() && s.modality != modality) return false;
  for (const auto& h : hints)
    if (!has(s.hints, h)) return false;
  for (const auto& h : not_hints)
    if (has(s.hints, h)) return false;
  if (!orientation.empty() && !has(orientation, s.orientation)) return false;
  if (!description.empty() &&
      std::none_of(description.begin(), description.end(),
                   [&](const std::string& p) { return glob(p, s.description) || glob(p, s.protocol); }))
    return false;
  return true;
}

nlohmann::json InputRule::to_json() const {
  nlohmann::json j = {{"modality", modality}};
  if (!hints.empty()) j["hints"] = hints;
  if (!not_hints.empty()) j["not_hints"] = not_hints;
  if (!description.empty()) j["description"] = description;
  if (!orientation.empty()) j["orientation"] = orientation;
  return j;
}

namespace {

// The default tests of a sequence type; false when there is none.
bool default_rule(const std::string& type, InputRule& r) {
  const std::string s = lower(type);
  if (s == "t1") {
    r.description = {"*t1*"};
    r.not_hints = {"inversion_recovery", "fat_suppressed", "localizer", "mosaic"};
  } else if (s == "t2") {
    r.description = {"*t2*"};
    r.not_hints = {"inversion_recovery", "localizer", "mosaic"};
  } else if (s == "stir") {
    r.hints = {"stir"};
    r.not_hints = {"localizer"};
  } else if (s == "flair") {
    r.hints = {"flair"};
    r.not_hints = {"localizer"};
  } else {
    return false;
  }
  return true;
}

}  // namespace

InputRule InputRule::parse(const std::string& sequence, const nlohmann::json& declared) {
  InputRule r;
  r.sequence = sequence;
  if (declared.is_null()) {
    if (!default_rule(sequence, r))
      fail(Status::invalid_argument, "input '" + sequence + "' declares no series rule (\"match\" in the pipeline file or the "
                                     "model's inputs metadata) and has no default; name its series with --input DIR#series=UID");
    r.origin = "default for " + sequence;
    return r;
  }
  if (!declared.is_object()) fail(Status::invalid_argument, "input '" + sequence + "': \"match\" must be an object");
  if (declared.contains("sequence")) {
    const std::string where = "input '" + sequence + "': \"match\".sequence";
    if (!declared["sequence"].is_string()) fail(Status::invalid_argument, where + " must be a string");
    if (!default_rule(declared["sequence"].get<std::string>(), r))
      fail(Status::invalid_argument, where + " '" + declared["sequence"].get<std::string>() +
                                         "' is not a sequence type with default tests (t1, t2, stir, flair)");
  }
  static const std::vector<std::string> kOrientations = {"axial", "coronal", "sagittal", "oblique", "mixed", "unknown"};
  for (auto it = declared.begin(); it != declared.end(); ++it) {
    const std::string where = "input '" + sequence + "': \"match\"." + it.key();
    if (it.key() == "sequence") continue;
    if (it.key() == "hints") r.hints = strings(it.value(), where);
    else if (it.key() == "not_hints") r.not_hints = strings(it.value(), where);
    else if (it.key() == "description") r.description = strings(it.value(), where);
    else if (it.key() == "orientation") {
      r.orientation = strings(it.value(), where);
      for (const auto& o : r.orientation)
        if (!has(kOrientations, o))
          fail(Status::invalid_argument, where + " '" + o + "' is not an orientation (axial, coronal, sagittal, oblique)");
    } else if (it.key() == "modality") {
      if (!it.value().is_string()) fail(Status::invalid_argument, where + " must be a string");
      r.modality = it.value().get<std::string>();
    } else {
      fail(Status::invalid_argument, where + " is not a rule (sequence, hints, not_hints, description, orientation, modality)");
    }
  }
  r.origin = "declared";
  return r;
}

std::vector<InputRule> input_rules(const Model& model) {
  std::vector<InputRule> rules;
  const auto& inputs = model.metadata.contains("inputs") ? model.metadata["inputs"] : nlohmann::json::array();
  for (size_t i = 0; i < model.graph->inputs.size(); ++i) {
    const nlohmann::json declared =
        i < inputs.size() && inputs[i].is_object() && inputs[i].contains("match") ? inputs[i]["match"] : nlohmann::json();
    rules.push_back(InputRule::parse(sequence_name(model, static_cast<int>(i)), declared));
    if (!declared.is_null()) rules.back().origin = "model metadata";
  }
  return rules;
}

StudyMatch match_study(const std::string& dir, const std::vector<InputRule>& rules) {
  const std::vector<DicomSeriesInfo> all = list_dicom_series(dir);
  if (all.empty()) fail(Status::corrupt_file, "no readable DICOM image in '" + dir + "'");
  const std::string listing = " (voxinfer series DIR lists them; name one with --input DIR#series=UID):\n" + series_table(all);
  StudyMatch m;
  m.report = {{"study", dir}, {"inputs", nlohmann::json::array()}, {"unused", nlohmann::json::array()}};
  std::vector<const DicomSeriesInfo*> used;
  for (const auto& rule : rules) {
    std::vector<const DicomSeriesInfo*> hit;
    for (const auto& s : all)
      if (rule.matches(s)) hit.push_back(&s);
    const std::string what = "input '" + rule.sequence + "' (rule " + rule.to_json().dump() + ")";
    if (hit.empty()) fail(Status::invalid_argument, "no series in '" + dir + "' matches " + what + listing);
    if (hit.size() > 1) {
      std::vector<DicomSeriesInfo> several;
      for (const auto* s : hit) several.push_back(*s);
      fail(Status::invalid_argument, std::to_string(hit.size()) + " series in '" + dir + "' match " + what +
                                         "; name the one to use with --input DIR#series=UID:\n" + series_table(several));
    }
    if (std::find(used.begin(), used.end(), hit[0]) != used.end())
      fail(Status::invalid_argument, "series #" + hit[0]->number + " '" + hit[0]->description + "' in '" + dir +
                                         "' matches two inputs, the second being " + what + listing);
    used.push_back(hit[0]);
    m.paths.push_back(dir + "#series=" + hit[0]->uid);
    nlohmann::json e = series_entry(*hit[0]);
    e["sequence"] = rule.sequence;
    e["rule"] = rule.to_json();
    e["rule_from"] = rule.origin;
    e["path"] = m.paths.back();
    m.report["inputs"].push_back(e);
  }
  for (const auto& s : all)
    if (std::find(used.begin(), used.end(), &s) == used.end()) m.report["unused"].push_back(series_entry(s));
  return m;
}

}  // namespace vx::pipeline
