// The .vxm writer and reader agree on every field; files the Python writer made load with
// the same values; SHA-256 matches Python's hashlib.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "../common/graph_nodes.h"
#include "core/sha256.h"
#include "model/model.h"
#include "model/vxm_reader.h"
#include "model/vxm_writer.h"

using namespace vx;
using json = nlohmann::json;

namespace {

const std::string kFixtures = std::string(VX_FIXTURE_DIR) + "/vxm/";

using test::node;

Tensor filled(const Shape& s, float base) {
  Tensor t = Tensor::empty(s);
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = base + 0.001f * float(i);
  return t;
}

Graph sample_graph() {
  Graph g;
  g.inputs.push_back({"x", Shape{1, 2, 5, 5}});
  g.weights["w"] = filled({3, 2, 3, 3}, 0.5f);
  g.weights["b"] = filled({3}, -1.0f);
  Tensor ints = Tensor::empty(Shape{4}, DType::i64);
  for (int i = 0; i < 4; ++i) static_cast<int64_t*>(ints.raw())[i] = int64_t(1) << (10 * i);
  g.weights["ints"] = ints;
  g.weights["scalar"] = filled(Shape{}, 3.0f);
  Node conv = node("conv", "Conv", {"x", "w", "b"}, {"c"});
  conv.attrs.set_ints("pads", {1, 1, 1, 1});
  conv.attrs.set_ints("strides", {1, 1});
  conv.attrs.set_str("note", "a \"quoted\" string");
  g.nodes.push_back(conv);
  Node act = node("act", "LeakyRelu", {"c"}, {"y"});
  act.attrs.set_float("alpha", 0.125);
  act.attrs.set_floats("list", {1.5, -2.25e-7});
  g.nodes.push_back(act);
  g.outputs = {"y"};
  return g;
}

json sample_metadata() {
  return json::parse(R"({"name": "sample", "architecture": "test", "producer": "roundtrip", "licence": "CC0",
    "inputs": [{"name": "x", "sequence": "STIR", "shape": [1, 2, -1, 5], "spacing": [3.5, 1, 1],
                "orientation": "RAS", "normalisation": {"method": "max"}}],
    "outputs": [{"name": "y", "kind": "probabilities", "classes": ["neg", "pos"], "activation": "softmax"}],
    "gradcam_layer": "c", "preprocessing": {"clip": [0, 99]}})");
}

void check_same(const Graph& a, const Graph& b) {
  REQUIRE(a.inputs.size() == b.inputs.size());
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    CHECK(a.inputs[i].name == b.inputs[i].name);
    CHECK(a.inputs[i].shape == b.inputs[i].shape);
  }
  CHECK(a.outputs == b.outputs);
  REQUIRE(a.nodes.size() == b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    CHECK(a.nodes[i].name == b.nodes[i].name);
    CHECK(a.nodes[i].op == b.nodes[i].op);
    CHECK(a.nodes[i].inputs == b.nodes[i].inputs);
    CHECK(a.nodes[i].outputs == b.nodes[i].outputs);
    CHECK(attrs_to_json(a.nodes[i].attrs) == attrs_to_json(b.nodes[i].attrs));
  }
  REQUIRE(a.weights.size() == b.weights.size());
  for (const auto& kv : a.weights) {
    auto it = b.weights.find(kv.first);
    REQUIRE(it != b.weights.end());
    CHECK(it->second.shape() == kv.second.shape());
    CHECK(it->second.dtype() == kv.second.dtype());
    REQUIRE(it->second.nbytes() == kv.second.nbytes());
    CHECK(std::memcmp(it->second.raw(), kv.second.raw(), kv.second.nbytes()) == 0);
    CHECK(reinterpret_cast<uintptr_t>(it->second.raw()) % 64 == 0);
  }
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "missing fixture " << path);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

json expected() {
  auto bytes = read_all(kFixtures + "expected.json");
  return json::parse(bytes.begin(), bytes.end());
}

}  // namespace

TEST_CASE("every field survives write then load_memory, raw and zlib") {
  for (bool compress : {false, true}) {
    CAPTURE(compress);
    const Graph g = sample_graph();
    const std::vector<uint8_t> bytes = write_vxm(g, sample_metadata(), {compress});
    auto m = Model::load_memory(bytes.data(), bytes.size());
    check_same(g, *m->graph);
    CHECK(m->metadata == sample_metadata());
    CHECK(m->order == std::vector<int>{0, 1});
    CHECK(m->sha256 == sha256_hex(bytes.data(), bytes.size()));
  }
}

TEST_CASE("load_file maps the file and gives the same model as load_memory") {
  const Graph g = sample_graph();
  const std::vector<uint8_t> bytes = write_vxm(g, sample_metadata());
  const std::string path = "vxm_roundtrip_tmp.vxm";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  auto m = Model::load_file(path);
  check_same(g, *m->graph);
  CHECK(m->metadata == sample_metadata());
  LoadOptions o;
  o.expected_sha256 = m->sha256;
  CHECK_NOTHROW(Model::load_file(path, o));
  o.expected_sha256 = std::string(64, '0');
  CHECK_THROWS_AS(Model::load_file(path, o), Error);
  std::remove(path.c_str());
}

TEST_CASE("files written by weights/vxm.py load with the same values and hash") {
  const json ex = expected();
  for (const char* name : {"conv_relu.vxm", "conv_relu_zlib.vxm"}) {
    CAPTURE(name);
    auto m = Model::load_file(kFixtures + name);
    CHECK(m->sha256 == ex["sha256"][name].get<std::string>());
    CHECK(m->metadata == ex["metadata"]);  // unknown keys are kept in metadata, ignored by the engine
    const Tensor& w = m->graph->weights.at("w");
    CHECK(w.shape() == Shape{3, 2, 3, 3});
    auto wv = ex["w"].get<std::vector<float>>();
    REQUIRE(size_t(w.numel()) == wv.size());
    for (size_t i = 0; i < wv.size(); ++i) CHECK(w.f32()[i] == wv[i]);
    const Node& conv = m->graph->nodes[size_t(m->graph->find_node("conv"))];
    CHECK(conv.attrs.get_ints("pads") == std::vector<int64_t>{1, 1, 1, 1});
    CHECK(m->graph->nodes[1].attrs.get_float("alpha", 0) == 0.25);
  }
}

TEST_CASE("sha256 matches hashlib") {
  const nlohmann::json vectors = expected()["sha256_vectors"];  // a range-for over a member of a temporary dangles
  for (const auto& v : vectors) {
    const size_t n = v["len"].get<size_t>();
    std::vector<uint8_t> msg(n);
    for (size_t i = 0; i < n; ++i) msg[i] = uint8_t((i * 31 + 7) % 256);
    CAPTURE(n);
    CHECK(sha256_hex(msg.data(), n) == v["sha256"].get<std::string>());
    // Same digest when fed in uneven pieces.
    Sha256 s;
    for (size_t at = 0; at < n;) {
      size_t step = std::min(n - at, size_t(1 + at % 97));
      s.update(msg.data() + at, step);
      at += step;
    }
    CHECK(s.hex_digest() == v["sha256"].get<std::string>());
  }
}
