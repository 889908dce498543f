// Reads the PyTorch reference fixtures that tests/**/gen_NAME_fixtures.py write into
// $VX_FIXTURE_DIR/NAME/: a manifest.json plus raw little-endian float32 .bin tensors.
// Header-only (nlohmann-json). Manifest layout (see tests/ops/gen_ops_fixtures.py):
//   {"version": 1, "cases": [{"name", "op", "attrs": {k: {"ints"|"floats"|"str": v}},
//     "inputs": [{"name", "shape", "file", "weight"} | null], "output": {"shape", "file"}, "tol"}]}
// Everything throws std::runtime_error with the path on a missing or malformed file, so a
// test that forgot to generate its data fails instead of passing vacuously.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"
#include "graph/attrs.h"

namespace vx::test {

// $VX_FIXTURE_DIR/<name> (environment first, then the compile definition).
inline std::string fixture_dir(const std::string& name) {
  const char* env = std::getenv("VX_FIXTURE_DIR");
  std::string base = env && *env ? env : "";
#ifdef VX_FIXTURE_DIR
  if (base.empty()) base = VX_FIXTURE_DIR;
#endif
  if (base.empty()) throw std::runtime_error("VX_FIXTURE_DIR is not set");
  return base + "/" + name;
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot open fixture manifest " + path + " (did the gen_*_fixtures.py step run?)");
  return nlohmann::json::parse(f);
}

inline Shape shape_of(const nlohmann::json& dims) {
  std::vector<int64_t> d = dims.get<std::vector<int64_t>>();
  if (d.size() > static_cast<size_t>(kMaxRank)) throw std::runtime_error("fixture tensor rank > kMaxRank");
  return Shape::from(d.data(), static_cast<int>(d.size()));
}

// Reads a raw float32 file of exactly shape.numel() values into a fresh tensor.
inline Tensor read_bin(const std::string& path, const Shape& shape) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw std::runtime_error("cannot open fixture tensor " + path);
  const auto size = static_cast<int64_t>(f.tellg());
  if (size != shape.numel() * 4)
    throw std::runtime_error(path + " has " + std::to_string(size) + " bytes, shape " + shape.str() + " needs " +
                             std::to_string(shape.numel() * 4));
  Tensor t = Tensor::empty(shape);
  f.seekg(0);
  f.read(static_cast<char*>(t.raw()), size);
  return t;
}

// {"ints": [...]} | {"floats": [...]} | {"str": "..."} per attribute.
inline Attrs attrs_of(const nlohmann::json& j) {
  Attrs a;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& v = it.value();
    if (v.contains("ints")) a.set_ints(it.key(), v["ints"].get<std::vector<int64_t>>());
    else if (v.contains("floats")) a.set_floats(it.key(), v["floats"].get<std::vector<double>>());
    else if (v.contains("str")) a.set_str(it.key(), v["str"].get<std::string>());
    else throw std::runtime_error("attribute '" + it.key() + "' has no ints, floats or str");
  }
  return a;
}

// Largest |a - b| over two same-shaped contiguous float tensors (infinity on shape mismatch).
inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return INFINITY;
  const float *x = a.f32(), *y = b.f32();
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double d = std::fabs(double(x[i]) - double(y[i]));
    if (!(d <= m)) m = d;  // NaN propagates as a failure
  }
  return m;
}

inline double max_abs(const Tensor& a) {
  double m = 0;
  const float* x = a.f32();
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(double(x[i])));
  return m;
}

}  // namespace vx::test
