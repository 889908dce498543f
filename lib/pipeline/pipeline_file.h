// A pipeline file (weights/FORMAT.md, "Pipeline files"): the models an examination runs, named
// by file and SHA-256, its inputs (sequence names, series match rules, the preprocessing plan of
// each), its stages (denoise, classify with Grad-CAM layers per input, segment slice by slice or
// by sliding window, postprocess) and its outputs. `voxinfer exam` runs the one it is given, so a
// vendor's own models need no code.
//
// load_pipeline_file parses and validates the whole file before anything runs: format and
// version, every key (unknown keys are refused: a typo must not silently change what runs), each
// model file present with the declared SHA-256, each step known, each input a stage names
// declared, each plan valid (preprocess/sij_recipe.h). Every failure is Error(invalid_argument),
// or Error(io_error) for a missing model file, naming the file and the item.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "preprocess/sij_recipe.h"

namespace vx::pipeline {

struct PipelineModel {
  std::string name;    // the key in "models", what stages refer to
  std::string file;    // as written, relative to the pipeline file's folder
  std::string path;    // resolved
  std::string sha256;  // lower-case hex, checked against the file's bytes
};

struct PipelineInput {
  std::string sequence;                    // "T1", "STIR"
  nlohmann::json match;                    // series rule (input_match.h), null = the sequence's default
  std::optional<preprocess::Plan> plan;    // "preprocessing"; absent = resize to the network grid
  nlohmann::json plan_json;                // as declared, for the report
};

struct SegmentStage {
  std::string model, input;                // model name, input sequence
  std::string mode = "slices";             // "slices" (2-D network, along D) | "sliding_window" (3-D)
  int batch_size = 8;
  double overlap = 0.5;                    // sliding_window
  bool gaussian = true;                    // sliding_window
  bool mirror = false;
};

struct PostprocessStage {
  std::string labels = "argmax";           // "argmax" | "threshold"
  double threshold = 0.5;                  // "threshold": the lesion class's probability
  std::string lesion_class = "lesion";     // class name of the mask
  int connectivity = 26;                   // connected components: 6, 18 or 26
  bool lesion_score = true;                // the hip lesion score (postprocess.h)
};

struct PipelineFile {
  std::string path, sha256, name;
  std::vector<PipelineModel> models;
  std::vector<PipelineInput> inputs;
  std::vector<std::string> steps;          // the stages in file order, for the report
  std::optional<std::string> denoise_model;
  std::string classify_model;
  bool classify_denoised = true;
  std::vector<std::string> classify_inputs;               // sequences, in the classifier's input order
  std::map<std::string, std::string> gradcam_layers;      // sequence -> layer
  std::optional<SegmentStage> segment;
  PostprocessStage postprocess;
  std::vector<std::string> outputs;

  const PipelineModel* model(const std::string& name) const;
  int input_index(const std::string& sequence) const;     // -1 if not declared
  nlohmann::json report() const;                          // {file, sha256, name, steps, inputs: [{sequence, preprocessing}]}
};

// Reads, parses and validates `path` (see above), hashing every model file.
PipelineFile load_pipeline_file(const std::string& path);
// The same from JSON text already read; `path` names the file in messages and resolves models.
PipelineFile parse_pipeline(const std::string& text, const std::string& path);

// The single "*.pipeline.json" in `dir`, or "" when there is none; several is
// Error(invalid_argument) listing them (name one with --pipeline).
std::string find_pipeline_file(const std::string& dir);

}  // namespace vx::pipeline
