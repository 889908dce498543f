// Reads a case written by gen_gradcam_fixtures.py: a hand-built graph (ONNX-style attrs,
// weights as raw float32 .bin) plus named reference tensors. Throws on anything missing, so a
// test without its data fails rather than passing vacuously.
#pragma once
#include <cmath>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "common/fixtures.h"
#include "graph/graph.h"
#include "model/model.h"

namespace vx::test {

inline Tensor read_bin(const std::string& dir, const nlohmann::json& desc) {
  std::vector<int64_t> dims = desc.at("shape").get<std::vector<int64_t>>();
  Tensor t = Tensor::empty(Shape::from(dims.data(), static_cast<int>(dims.size())));
  const std::string path = dir + "/" + desc.at("file").get<std::string>();
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  f.read(reinterpret_cast<char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
  if (!f) throw std::runtime_error("short file " + path);
  return t;
}

struct GradCase {
  std::string dir;
  nlohmann::json json;
  std::shared_ptr<Model> model;
  Tensor tensor(const std::string& name) const { return read_bin(dir, json.at("tensors").at(name)); }
  bool has(const std::string& name) const { return json.at("tensors").contains(name); }
  const nlohmann::json& extra() const { return json.at("extra"); }
};

inline GradCase load_case(const std::string& name) {
  GradCase c;
  c.dir = fixture_dir("gradcam") + "/" + name;
  c.json = read_json(c.dir + "/case.json");
  const auto& gj = c.json.at("graph");
  auto g = std::make_shared<Graph>();
  for (const auto& in : gj.at("inputs")) {
    std::vector<int64_t> d = in.at("shape").get<std::vector<int64_t>>();
    g->inputs.push_back({in.at("name").get<std::string>(), Shape::from(d.data(), static_cast<int>(d.size()))});
  }
  g->outputs = gj.at("outputs").get<std::vector<std::string>>();
  for (const auto& nj : gj.at("nodes")) {
    Node n;
    n.name = nj.at("name");
    n.op = nj.at("op");
    n.inputs = nj.at("inputs").get<std::vector<std::string>>();
    n.outputs = nj.at("outputs").get<std::vector<std::string>>();
    for (const auto& kv : nj.at("attrs").items()) {
      const auto& v = kv.value();
      if (v.contains("ints")) n.attrs.set_ints(kv.key(), v["ints"].get<std::vector<int64_t>>());
      else if (v.contains("floats")) n.attrs.set_floats(kv.key(), v["floats"].get<std::vector<double>>());
      else n.attrs.set_str(kv.key(), v["str"].get<std::string>());
    }
    g->nodes.push_back(std::move(n));
  }
  for (const auto& kv : gj.at("weights").items()) g->weights[kv.key()] = read_bin(c.dir, kv.value());
  c.model = std::make_shared<Model>();
  c.model->order = g->topological_order();
  c.model->graph = g;
  c.model->metadata = nlohmann::json::object();
  return c;
}

}  // namespace vx::test
