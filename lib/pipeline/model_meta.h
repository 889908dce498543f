// What the pipelines read from a model's metadata (weights/FORMAT.md) and its graph.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/model.h"

namespace vx::pipeline {

// The fixed [D, H, W] grid (H, W only, D = 1, for 2-D models) a model's input declares, or
// throws Error(unsupported) when a spatial dimension is free.
std::array<int64_t, 3> model_grid(const Model& m, int input = 0);
bool has_fixed_grid(const Model& m, int input = 0);
// Class names of output 0 ("outputs"[0]."classes"); empty when not declared.
std::vector<std::string> class_names(const Model& m);
// Output 0's activation applied to logits: "softmax" (default) or "sigmoid".
std::vector<float> probabilities(const Model& m, const std::vector<float>& logits);
// Sequence name of input i ("inputs"[i]."sequence"), else the graph input's name.
std::string sequence_name(const Model& m, int input);
// Normalises a scan for input i as "inputs"[i]."normalisation"."method" declares: "max"
// (divide by the maximum), "percentile" (divide by the given percentile, default 99.5),
// "zscore", or none. scan becomes (scan - offset) / scale; the returned pair undoes it for
// outputs in the same units (image-to-image models). Throws Error(invalid_argument) when the
// scan cannot be normalised (no positive intensities, or constant for z-score).
struct Normalisation {
  float scale = 1.f, offset = 0.f;
  Tensor undo(const Tensor& t) const;  // t * scale + offset
};
Normalisation normalise_input(const Model& m, int input, Tensor& scan);

Tensor scaled(const Tensor& t, float by);
float max_of(const Tensor& t);
std::string lower(std::string s);

}  // namespace vx::pipeline
