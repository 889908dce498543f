// Convolutions prepared per session, their packed weights owned by the model (or by the
// executor for a graph of its own): packing happens on a session's first run and never
// again, two sessions of one model share it, a session or model frees it, and a new model
// with changed weights packs anew. Results: bit-identical to the same table's unprepared
// entries (the same kernels on the same data) and within 1e-4 + 1e-4|ref| of the reference.
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/graph_nodes.h"
#include "common/float_compare.h"
#include "common/random_data.h"
#include "exec/executor.h"
#include "kernel_table.h"
#include "model/model.h"
#include "model/vxm_writer.h"

using namespace vx;

namespace {

Tensor random_tensor(const Shape& s, uint32_t seed, float scale) {
  Tensor t = Tensor::empty(s);
  const auto v = test::uniform_floats(s.numel(), seed, -scale, scale);
  std::memcpy(t.f32(), v.data(), v.size() * sizeof(float));
  return t;
}

// x [1,16,8,8,8] -> Conv 3x3x3 16->32 (+bias) -> Relu -> ConvTranspose k2s2 32->16 -> Conv 1x1x1 16->3
std::shared_ptr<Graph> graph() {
  auto g = std::make_shared<Graph>();
  g->inputs.push_back({"x", Shape{1, 16, 8, 8, 8}});
  g->weights["w0"] = random_tensor(Shape{32, 16, 3, 3, 3}, 1, 0.2f);
  g->weights["b0"] = random_tensor(Shape{32}, 2, 0.1f);
  g->weights["w1"] = random_tensor(Shape{32, 16, 2, 2, 2}, 3, 0.3f);
  g->weights["w2"] = random_tensor(Shape{3, 16, 1, 1, 1}, 4, 0.5f);
  Node c0 = test::node("conv0", "Conv", {"x", "w0", "b0"}, {"c0"});
  c0.attrs.set_ints("pads", {1, 1, 1, 1, 1, 1});
  Node up = test::node("up", "ConvTranspose", {"r0", "w1"}, {"u"});
  up.attrs.set_ints("strides", {2, 2, 2});
  g->nodes = {c0, test::node("relu0", "Relu", {"c0"}, {"r0"}), up, test::node("head", "Conv", {"u", "w2"}, {"y"})};
  g->outputs = {"y"};
  return g;
}

Tensor input() { return random_tensor(Shape{1, 16, 8, 8, 8}, 9, 1.f); }

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.f32(), t.f32() + t.numel()); }

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  test::expect_close(got, want, 1e-4, 1e-4, what);
}

using test::same_bits;

std::vector<float> reference(const std::shared_ptr<const Graph>& g) {
  Executor ref(g, kern::ref_kernels());
  return values(ref.run({input()})[0]);
}

const kern::KernelTable& fast() {
  if (!kern::default_kernels().prepare_conv) MESSAGE("SKIPPED: the default table prepares nothing");
  return kern::default_kernels();
}

}  // namespace

TEST_CASE("a session packs its weights on its first run and not on later runs") {
  const auto g = graph();
  Executor ex(g, fast());
  const auto first = values(ex.run({input()})[0]);
  const int64_t made = ex.weight_packs().packs_made();
  if (fast().prepare_conv) CHECK(made >= 2);  // conv0's oneDNN weights, the k2s2 GEMM's rearranged weights
  for (int run = 0; run < 3; ++run) CHECK(same_bits(values(ex.run({input()})[0]), first));
  CHECK(ex.weight_packs().packs_made() == made);
  expect_close(first, reference(g), "prepared session vs reference");
  // The same table without its prepare step: its plain entries, the same kernels.
  kern::KernelTable unprepared = fast();
  unprepared.prepare_conv = nullptr;
  Executor plain(g, unprepared);
  CHECK(same_bits(values(plain.run({input()})[0]), first));
  CHECK(plain.weight_packs().packs_made() == 0);
}

TEST_CASE("two sessions of one model share its packed weights; other thread counts stay right") {
  const auto g = graph();
  auto packs = std::make_shared<kern::WeightPacks>();
  Executor a(g, fast(), {}, packs), b(g, fast(), {}, packs);
  const auto ya = values(a.run({input()})[0]);
  const int64_t made = packs->packs_made();
  if (fast().prepare_conv) CHECK(made > 0);  // the first session packed into the model's owner
  const size_t held = packs->size();
  const auto yb = values(b.run({input()})[0]);
  CHECK(packs->packs_made() == made);  // the second session packed nothing
  CHECK(same_bits(ya, yb));
  // A session on one thread: its primitives may choose other weight layouts (then packed
  // once more, under other keys) or the same (shared); either way its results are right.
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  Executor c(g, fast(), {}, packs);
  const auto yc = values(c.run({input()})[0]);
  omp_set_num_threads(saved);
  CHECK(packs->size() >= held);
  CHECK(packs->size() <= 2 * held);
  CHECK(packs->packs_made() == made + static_cast<int64_t>(packs->size() - held));
  expect_close(yc, reference(g), "one-thread session");
}

TEST_CASE("packed weights are freed with the session that owns them, and with the model") {
  const auto g = graph();
  const int64_t before = kern::packed_weights_alive();
  {
    Executor ex(g, fast());
    ex.run({input()});
    if (fast().prepare_conv) CHECK(kern::packed_weights_alive() > before);
  }
  CHECK(kern::packed_weights_alive() == before);
  const auto bytes = write_vxm(*g, nlohmann::json::object());
  {
    std::shared_ptr<const Model> m = Model::load_memory(bytes.data(), bytes.size());
    REQUIRE(m->packs);
    Executor s1(m->graph, fast(), {}, m->packs), s2(m->graph, fast(), {}, m->packs);
    s1.run({input()});
    s2.run({input()});
    if (fast().prepare_conv) CHECK(kern::packed_weights_alive() == before + static_cast<int64_t>(m->packs->size()));
  }
  CHECK(kern::packed_weights_alive() == before);
}

TEST_CASE("a new model with changed weights gets new packing, the old model keeps its results") {
  auto g = graph();
  const auto bytes_a = write_vxm(*g, nlohmann::json::object());
  Tensor& w0 = g->weights["w0"];
  w0.f32()[w0.numel() / 2] += 3.f;  // a value in the middle: no sample of first and last values sees it
  const auto bytes_b = write_vxm(*g, nlohmann::json::object());
  auto a = Model::load_memory(bytes_a.data(), bytes_a.size());
  auto b = Model::load_memory(bytes_b.data(), bytes_b.size());
  CHECK(a->packs != b->packs);
  Executor sa(a->graph, fast(), {}, a->packs), sb(b->graph, fast(), {}, b->packs);
  const auto ya = values(sa.run({input()})[0]);
  const auto yb = values(sb.run({input()})[0]);
  expect_close(ya, reference(a->graph), "model a");
  expect_close(yb, reference(b->graph), "model b");
  CHECK_FALSE(same_bits(ya, yb));
}
