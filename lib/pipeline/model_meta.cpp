#include "pipeline/model_meta.h"

#include <cctype>
#include <cmath>

#include "image/intensity.h"

namespace vx::pipeline {

namespace {
const nlohmann::json* entry(const Model& m, const char* list, int i) {
  const auto& md = m.metadata;
  if (!md.contains(list) || !md[list].is_array() || static_cast<int>(md[list].size()) <= i) return nullptr;
  return &md[list][i];
}
}  // namespace

bool has_fixed_grid(const Model& m, int input) {
  const Shape& s = m.graph->inputs.at(input).shape;
  if (s.rank != 4 && s.rank != 5) return false;
  for (int d = 2; d < s.rank; ++d)
    if (s[d] <= 0) return false;
  return true;
}

std::array<int64_t, 3> model_grid(const Model& m, int input) {
  const Shape& s = m.graph->inputs.at(input).shape;
  if (!has_fixed_grid(m, input))
    fail(Status::unsupported, "this needs a model whose input '" + m.graph->inputs.at(input).name +
                                  "' has a fixed spatial size, it declares " + s.str());
  return s.rank == 5 ? std::array<int64_t, 3>{s[2], s[3], s[4]} : std::array<int64_t, 3>{1, s[2], s[3]};
}

std::vector<std::string> class_names(const Model& m) {
  std::vector<std::string> names;
  const auto* o = entry(m, "outputs", 0);
  if (o && o->contains("classes") && (*o)["classes"].is_array())
    for (const auto& c : (*o)["classes"]) names.push_back(c.is_string() ? c.get<std::string>() : c.dump());
  return names;
}

std::vector<float> probabilities(const Model& m, const std::vector<float>& logits) {
  const auto* o = entry(m, "outputs", 0);
  const std::string act = o && o->contains("activation") && (*o)["activation"].is_string() ? (*o)["activation"].get<std::string>() : "softmax";
  std::vector<float> p(logits.size());
  if (act == "sigmoid") {
    for (size_t i = 0; i < p.size(); ++i) p[i] = 1.f / (1.f + std::exp(-logits[i]));
    return p;
  }
  float mx = -INFINITY, sum = 0;
  for (float v : logits) mx = std::max(mx, v);
  for (size_t i = 0; i < p.size(); ++i) sum += p[i] = std::exp(logits[i] - mx);
  for (float& v : p) v /= sum;
  return p;
}

std::string sequence_name(const Model& m, int input) {
  const auto* e = entry(m, "inputs", input);
  if (e && e->contains("sequence") && (*e)["sequence"].is_string()) return (*e)["sequence"].get<std::string>();
  return m.graph->inputs.at(input).name;
}

Tensor Normalisation::undo(const Tensor& t) const {
  Tensor o = t.clone();
  float* p = o.f32();
  for (int64_t i = 0; i < o.numel(); ++i) p[i] = p[i] * scale + offset;
  return o;
}

Normalisation normalise_input(const Model& m, int input, Tensor& scan) {
  const auto* e = entry(m, "inputs", input);
  std::string method = "none";
  double pct = 99.5;
  if (e && e->contains("normalisation") && (*e)["normalisation"].is_object()) {
    const auto& n = (*e)["normalisation"];
    if (n.contains("method") && n["method"].is_string()) method = n["method"].get<std::string>();
    if (n.contains("percentile") && n["percentile"].is_number()) pct = n["percentile"].get<double>();
  }
  const std::string what = "input '" + m.graph->inputs.at(input).name + "'";
  if (method == "max" || method == "percentile") {
    const float d = method == "max" ? max_of(scan) : static_cast<float>(percentile(scan, pct));
    if (!(d > 0) || !std::isfinite(d)) fail(Status::invalid_argument, what + " has no positive intensities to normalise");
    scan = scaled(scan, 1.f / d);
    return {d, 0.f};
  }
  if (method == "zscore") {
    const float* p = scan.f32();
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < scan.numel(); ++i) sum += p[i];
    const double mean = sum / scan.numel();
    for (int64_t i = 0; i < scan.numel(); ++i) sq += (p[i] - mean) * (p[i] - mean);
    const double sd = std::sqrt(sq / scan.numel());
    if (!(sd > 0) || !std::isfinite(sd)) fail(Status::invalid_argument, what + " is constant: it cannot be z-scored");
    Tensor o = scan.clone();
    for (int64_t i = 0; i < o.numel(); ++i) o.f32()[i] = static_cast<float>((p[i] - mean) / sd);
    scan = o;
    return {static_cast<float>(sd), static_cast<float>(mean)};
  }
  return {};
}

Tensor scaled(const Tensor& t, float by) {
  Tensor o = t.clone();
  float* p = o.f32();
  for (int64_t i = 0; i < o.numel(); ++i) p[i] *= by;
  return o;
}

float max_of(const Tensor& t) {
  float m = -INFINITY;
  const float* p = t.f32();
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, p[i]);
  return m;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace vx::pipeline
