#include "preprocess/sij_recipe.h"

#include <chrono>
#include <map>
#include <set>
#include <type_traits>

#include "core/error.h"
#include "image/intensity.h"
#include "preprocess/n4_volume.h"

namespace vx::preprocess {

namespace {

using nlohmann::json;

[[noreturn]] void bad(size_t index, const std::string& op, const std::string& why) {
  fail(Status::invalid_argument, "preprocessing plan step " + std::to_string(index) + " (" + op + "): " + why);
}

const std::set<std::string>& allowed_keys(const std::string& op) {
  static const std::map<std::string, std::set<std::string>> table = {
      {"resample", {"spacing", "size", "interp", "fill"}},
      {"clip_percentile", {"lower", "upper"}},
      {"n4", {"shrink_factor", "iterations", "histogram_bins", "convergence_threshold", "otsu", "threads"}},
      {"resize", {"size", "interp", "align_corners"}},
      {"crop_or_pad", {"size", "fill"}},
      {"zscore", {"ddof"}},
      {"max_scale", {}},
  };
  static const std::set<std::string> none;
  const auto it = table.find(op);
  return it == table.end() ? none : it->second;
}

bool known_op(const std::string& op) {
  return op == "resample" || op == "clip_percentile" || op == "n4" || op == "resize" || op == "crop_or_pad" ||
         op == "zscore" || op == "max_scale";
}

const char* interp_name(Interp i) { return i == Interp::nearest ? "nearest" : "linear"; }

// Typed readers: each names the step and key when the value has the wrong type.
double num(const json& j, const char* key, double dflt, size_t index, const std::string& op) {
  if (!j.contains(key)) return dflt;
  if (!j[key].is_number()) bad(index, op, std::string("'") + key + "' must be a number");
  return j[key].get<double>();
}

bool boolean(const json& j, const char* key, bool dflt, size_t index, const std::string& op) {
  if (!j.contains(key)) return dflt;
  if (!j[key].is_boolean()) bad(index, op, std::string("'") + key + "' must be true or false");
  return j[key].get<bool>();
}

int integer(const json& j, const char* key, int dflt, size_t index, const std::string& op) {
  if (!j.contains(key)) return dflt;
  if (!j[key].is_number_integer()) bad(index, op, std::string("'") + key + "' must be an integer");
  return j[key].get<int>();
}

template <class T>
std::array<T, 3> triple(const json& j, const char* key, bool required, size_t index, const std::string& op) {
  std::array<T, 3> out{0, 0, 0};
  if (!j.contains(key)) {
    if (required) bad(index, op, std::string("'") + key + "' is required: three numbers in (i, j, k) order");
    return out;
  }
  const json& a = j[key];
  if (!a.is_array() || a.size() != 3) bad(index, op, std::string("'") + key + "' must be three numbers in (i, j, k) order");
  for (size_t d = 0; d < 3; ++d) {
    if (!a[d].is_number() || (std::is_integral<T>::value && !a[d].is_number_integer()))
      bad(index, op, std::string("'") + key + "' must hold " + (std::is_integral<T>::value ? "integers" : "numbers"));
    out[d] = a[d].get<T>();
  }
  return out;
}

Interp interp_of(const json& j, size_t index, const std::string& op) {
  if (!j.contains("interp")) return Interp::linear;
  const json& v = j["interp"];
  if (v == "linear") return Interp::linear;
  if (v == "nearest") return Interp::nearest;
  bad(index, op, "'interp' must be \"linear\" or \"nearest\", not " + v.dump());
}

PlanStep parse_step(const json& j, size_t index) {
  if (!j.is_object() || !j.contains("op") || !j["op"].is_string())
    bad(index, "?", "a step must be an object with a string \"op\", got " + j.dump().substr(0, 80));
  PlanStep s;
  s.op = j["op"].get<std::string>();
  if (!known_op(s.op))
    bad(index, s.op,
        "unknown step \"" + s.op +
            "\"; known steps: resample, clip_percentile, n4, resize, crop_or_pad, zscore, max_scale");
  const auto& keys = allowed_keys(s.op);
  for (const auto& item : j.items())
    if (item.key() != "op" && !keys.count(item.key())) bad(index, s.op, "unknown parameter '" + item.key() + "'");
  const std::string& op = s.op;
  if (op == "resample") {
    s.spacing = triple<double>(j, "spacing", false, index, op);
    s.size = triple<int64_t>(j, "size", false, index, op);
    s.interp = interp_of(j, index, op);
    s.fill = static_cast<float>(num(j, "fill", 0, index, op));
  } else if (op == "clip_percentile") {
    s.lower = num(j, "lower", 0, index, op);
    s.upper = num(j, "upper", 99, index, op);
    if (!(0 <= s.lower && s.lower <= s.upper && s.upper <= 100))
      bad(index, op, "need 0 <= lower <= upper <= 100");
  } else if (op == "n4") {
    s.n4.shrink_factor = integer(j, "shrink_factor", s.n4.shrink_factor, index, op);
    s.n4.histogram_bins = integer(j, "histogram_bins", s.n4.histogram_bins, index, op);
    s.n4.convergence_threshold = num(j, "convergence_threshold", s.n4.convergence_threshold, index, op);
    s.n4.threads = integer(j, "threads", s.n4.threads, index, op);
    s.otsu = boolean(j, "otsu", false, index, op);
    if (j.contains("iterations")) {
      const json& it = j["iterations"];
      if (!it.is_array() || it.empty()) bad(index, op, "'iterations' must be a non-empty array of integers");
      s.n4.iterations.clear();
      for (const auto& v : it) {
        if (!v.is_number_integer()) bad(index, op, "'iterations' must be a non-empty array of integers");
        s.n4.iterations.push_back(v.get<int>());
      }
    }
  } else if (op == "resize" || op == "crop_or_pad") {
    s.size = triple<int64_t>(j, "size", true, index, op);
    for (auto n : s.size)
      if (n < 1) bad(index, op, "'size' must be >= 1 on every axis");
    if (op == "resize") {
      s.interp = interp_of(j, index, op);
      s.align_corners = boolean(j, "align_corners", true, index, op);
    } else {
      s.fill = static_cast<float>(num(j, "fill", 0, index, op));
    }
  } else if (op == "zscore") {
    s.ddof = integer(j, "ddof", 0, index, op);
    if (s.ddof != 0 && s.ddof != 1) bad(index, op, "'ddof' must be 0 or 1");
  }
  return s;
}

json step_to_json(const PlanStep& s) {
  json j = {{"op", s.op}};
  if (s.op == "resample") {
    j["spacing"] = s.spacing;
    j["size"] = s.size;
    j["interp"] = interp_name(s.interp);
    j["fill"] = s.fill;
  } else if (s.op == "clip_percentile") {
    j["lower"] = s.lower;
    j["upper"] = s.upper;
  } else if (s.op == "n4") {
    j["shrink_factor"] = s.n4.shrink_factor;
    j["iterations"] = s.n4.iterations;
    j["histogram_bins"] = s.n4.histogram_bins;
    j["convergence_threshold"] = s.n4.convergence_threshold;
    j["otsu"] = s.otsu;
    j["threads"] = s.n4.threads;
  } else if (s.op == "resize") {
    j["size"] = s.size;
    j["interp"] = interp_name(s.interp);
    j["align_corners"] = s.align_corners;
  } else if (s.op == "crop_or_pad") {
    j["size"] = s.size;
    j["fill"] = s.fill;
  } else if (s.op == "zscore") {
    j["ddof"] = s.ddof;
  }
  return j;
}

Volume run_step(const PlanStep& s, Volume v) {
  if (s.op == "resample") {
    ResampleOptions o;
    o.spacing = s.spacing;
    o.size = s.size;
    o.interp = s.interp;
    o.fill = s.fill;
    return resample(v, o);
  }
  if (s.op == "clip_percentile") {
    if (!v.data.is_contiguous()) v.data = v.data.clone();
    clip_percentile(v.data, s.lower, s.upper);
    return v;
  }
  if (s.op == "n4") return n4_volume(v, s.n4, s.otsu).corrected;
  if (s.op == "resize") return resize(v, s.size, s.interp, s.align_corners);
  if (s.op == "crop_or_pad") return crop_or_pad(v, s.size, s.fill);
  if (s.op == "zscore") {
    if (!v.data.is_contiguous()) v.data = v.data.clone();
    zscore(v.data, s.ddof);
    return v;
  }
  if (s.op == "max_scale") {
    if (!v.data.is_contiguous()) v.data = v.data.clone();
    max_scale(v.data);
    return v;
  }
  fail(Status::invalid_argument, "unknown preprocessing step \"" + s.op + "\"");  // a hand-built PlanStep
}

}  // namespace

Plan sij_plan(const std::string& target, bool run_n4, const N4Options& n4) {
  if (target != "denoiser" && target != "classifier")
    fail(Status::invalid_argument, "unknown preprocessing target \"" + target + "\"; use \"denoiser\" or \"classifier\"");
  Plan p;
  PlanStep rs;
  rs.op = "resample";
  rs.spacing = {1.0, 1.0, 3.5};
  rs.size = {224, 224, 20};
  p.steps.push_back(rs);
  PlanStep clip;
  clip.op = "clip_percentile";
  p.steps.push_back(clip);
  if (run_n4) {
    PlanStep s;
    s.op = "n4";
    s.n4 = n4;
    p.steps.push_back(s);
  }
  PlanStep resize_step;
  resize_step.op = "resize";
  resize_step.align_corners = true;
  if (target == "denoiser") {
    resize_step.size = {192, 192, 20};
    p.steps.push_back(resize_step);
    PlanStep z;
    z.op = "zscore";
    p.steps.push_back(z);
  } else {
    PlanStep crop;
    crop.op = "crop_or_pad";
    crop.size = {172, 172, 16};
    p.steps.push_back(crop);
    resize_step.size = {192, 192, 16};
    p.steps.push_back(resize_step);
    PlanStep m;
    m.op = "max_scale";
    p.steps.push_back(m);
  }
  return p;
}

nlohmann::json plan_to_json(const Plan& plan) {
  json a = json::array();
  for (const auto& s : plan.steps) a.push_back(step_to_json(s));
  return a;
}

Plan plan_from_json(const nlohmann::json& steps) {
  if (!steps.is_array()) fail(Status::invalid_argument, "a preprocessing plan must be a JSON array of steps");
  Plan p;
  for (size_t i = 0; i < steps.size(); ++i) p.steps.push_back(parse_step(steps[i], i));
  return p;
}

std::optional<Plan> plan_from_metadata(const nlohmann::json& metadata) {
  if (!metadata.is_object() || !metadata.contains("preprocessing")) return std::nullopt;
  const json& pre = metadata["preprocessing"];
  if (!pre.is_object() || !pre.contains("plan")) return std::nullopt;
  return plan_from_json(pre["plan"]);
}

PlanResult run_plan(const Plan& plan, const Volume& src) {
  PlanResult r;
  r.volume = src;  // shares the buffer; every step writes into a new or cloned tensor
  r.volume.data = src.data.clone();
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const PlanStep& s = plan.steps[i];
    const auto t0 = std::chrono::steady_clock::now();
    try {
      r.volume = run_step(s, std::move(r.volume));
    } catch (const Error& e) {
      fail(e.status(), "preprocessing step " + std::to_string(i) + " (" + s.op + "): " + e.what());
    }
    const auto t1 = std::chrono::steady_clock::now();
    r.timings.push_back({s.op, std::chrono::duration<double, std::milli>(t1 - t0).count()});
  }
  return r;
}

}  // namespace vx::preprocess
