// Chooses a pipeline's input series from a study folder by declared rules, so that
// `voxinfer exam --study DIR` finds the T1 and the STIR among localisers, copies and other
// sequences. A rule is read from the model's metadata ("inputs"[i]."match", weights/FORMAT.md)
// or, when absent, is the default for the input's sequence name (below). Every rule must
// match exactly one series: none or several is an error listing the series, never a guess.
//
// A rule's tests, all of which must hold (the series' fields are io/dicom_series.h's):
//   "hints":       every one of these sequence hints present
//   "not_hints":   none of these present
//   "description": SeriesDescription (or ProtocolName) matches one of these globs, case-insensitive
//   "orientation": the series' orientation is one of these ("axial", "coronal", ...)
//   "modality":    Modality equals this (default "MR")
//   "sequence":    a sequence type whose default tests (below) the rule starts from: "t1",
//                  "t2", "stir" or "flair" (any case); a key given beside it replaces that test
// Defaults: T1: description *t1*, not_hints inversion_recovery, fat_suppressed, localizer,
// mosaic. T2: description *t2*, not_hints inversion_recovery, localizer, mosaic. STIR: hints
// stir, not_hints localizer. FLAIR: hints flair, not_hints localizer. An input named otherwise
// without a declared rule is an error naming it. So a pipeline reading a coronal STIR declares
// {"sequence": "stir", "orientation": "coronal"}.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/dicom_series.h"
#include "model/model.h"

namespace vx::pipeline {

struct InputRule {
  std::string sequence;  // the input's sequence name, for messages and the report
  std::vector<std::string> hints, not_hints, description, orientation;
  std::string modality = "MR";
  std::string origin;    // where the rule was declared ("pipeline file P", "model metadata", "default"), for the report

  bool matches(const DicomSeriesInfo& s) const;
  nlohmann::json to_json() const;
  // `declared`: the metadata's "match" object, or null for the sequence's default rule.
  // Throws Error(invalid_argument) for an unknown key or a sequence with no default.
  static InputRule parse(const std::string& sequence, const nlohmann::json& declared);
};

// The rule of each of the model's inputs, in input order.
std::vector<InputRule> input_rules(const Model& model);

struct StudyMatch {
  std::vector<std::string> paths;  // "DIR#series=UID" per rule, in rule order
  nlohmann::json report;           // {"study", "inputs": [{sequence, rule, rule_from, series...}], "unused": [...]}
};

// Lists the series under `dir` and assigns one to each rule. A series may serve only one
// rule. Throws Error(invalid_argument) naming the rule and listing the series when a rule
// matches none or several, or when one series matches two rules; Error(corrupt_file) when
// the folder holds no DICOM image.
StudyMatch match_study(const std::string& dir, const std::vector<InputRule>& rules);

}  // namespace vx::pipeline
