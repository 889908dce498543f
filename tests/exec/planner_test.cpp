// The memory planner on a realistic U-Net: reuse must at least halve activation memory, and
// must never change a value (checked against a naive run that gives every tensor its own
// storage, with the same kernels, so the results must be bit-identical).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "../common/graph_nodes.h"
#include "../common/random_data.h"
#include "../common/skip.h"
#include "exec/batch_split.h"
#include "exec/executor.h"
#include "graph/op.h"

using namespace vx;

namespace {

// Builds a 4-level 3-D U-Net: (Conv3x3x3 + Relu) x2 per level, MaxPool 2, ConvTranspose 2
// up, Concat with the skip, (Conv + Relu) x2, 1x1x1 head with 2 classes, Softmax.
class UNetBuilder {
 public:
  Graph g;

  std::string conv(const std::string& x, int64_t ic, int64_t oc, int64_t k) {
    const std::string name = "conv" + std::to_string(id_++);
    g.weights[name + ".w"] = random({oc, ic, k, k, k}, 1.0f / std::sqrt(float(ic * k * k * k)));
    g.weights[name + ".b"] = random({oc}, 0.1f);
    Node n = node(name, "Conv", {x, name + ".w", name + ".b"});
    const int64_t p = k / 2;
    n.attrs.set_ints("pads", {p, p, p, p, p, p});
    g.nodes.push_back(n);
    return name;
  }
  std::string relu(const std::string& x) { return add(node("relu" + std::to_string(id_++), "Relu", {x})); }
  std::string block(const std::string& x, int64_t ic, int64_t oc) {
    return relu(conv(relu(conv(x, ic, oc, 3)), oc, oc, 3));
  }
  std::string maxpool(const std::string& x) {
    Node n = node("pool" + std::to_string(id_++), "MaxPool", {x});
    n.attrs.set_ints("kernel_shape", {2, 2, 2});
    n.attrs.set_ints("strides", {2, 2, 2});
    return add(n);
  }
  std::string up(const std::string& x, int64_t ic, int64_t oc) {
    const std::string name = "up" + std::to_string(id_++);
    g.weights[name + ".w"] = random({ic, oc, 2, 2, 2}, 1.0f / std::sqrt(float(ic * 8)));
    Node n = node(name, "ConvTranspose", {x, name + ".w"});
    n.attrs.set_ints("strides", {2, 2, 2});
    return add(n);
  }
  std::string concat(const std::string& a, const std::string& b) {
    Node n = node("cat" + std::to_string(id_++), "Concat", {a, b});
    n.attrs.set_int("axis", 1);
    return add(n);
  }
  std::string softmax(const std::string& x) { return add(node("softmax" + std::to_string(id_++), "Softmax", {x})); }
  std::string sum(const std::string& a, const std::string& b) { return add(node("add" + std::to_string(id_++), "Add", {a, b})); }

 private:
  int id_ = 0;
  uint32_t seed_ = 12345;

  static Node node(const std::string& name, const std::string& op, std::vector<std::string> in) {
    Node n;
    n.name = name;
    n.op = op;
    n.inputs = std::move(in);
    n.outputs = {name};
    return n;
  }
  std::string add(const Node& n) {
    g.nodes.push_back(n);
    return n.name;
  }
  Tensor random(const Shape& s, float scale) {
    Tensor t = Tensor::empty(s);
    float* p = t.f32();
    for (int64_t i = 0; i < t.numel(); ++i) {
      seed_ = seed_ * 1664525u + 1013904223u;
      p[i] = scale * (static_cast<float>(seed_ >> 8) / 16777216.0f * 2.f - 1.f);
    }
    return t;
  }
};

std::shared_ptr<Graph> unet(int64_t base) {
  UNetBuilder b;
  b.g.inputs.push_back({"image", Shape{-1, 1, -1, -1, -1}});
  const int64_t c1 = base, c2 = 2 * base, c3 = 4 * base, c4 = 8 * base;
  std::string s1 = b.block("image", 1, c1);
  std::string s2 = b.block(b.maxpool(s1), c1, c2);
  std::string s3 = b.block(b.maxpool(s2), c2, c3);
  std::string x = b.block(b.maxpool(s3), c3, c4);
  x = b.block(b.concat(b.up(x, c4, c3), s3), 2 * c3, c3);
  x = b.block(b.concat(b.up(x, c3, c2), s2), 2 * c2, c2);
  x = b.block(b.concat(b.up(x, c2, c1), s1), 2 * c1, c1);
  b.g.outputs = {b.softmax(b.conv(x, c1, 2, 1))};
  return std::make_shared<Graph>(std::move(b.g));
}

// Every tensor in fresh storage, nodes run one by one: no planner, no arena, no views.
Tensor naive_run(const Graph& g, const Tensor& input, const kern::KernelTable& kernels, const std::string& name = "") {
  std::map<std::string, Tensor> v = g.weights;
  v[g.inputs[0].name] = input;
  for (int idx : g.topological_order()) {
    const Node& n = g.nodes[idx];
    const OpDef* op = find_op(n.op);
    std::vector<Shape> shapes;
    std::vector<const Tensor*> in;
    for (const auto& name : n.inputs) {
      in.push_back(&v.at(name));
      shapes.push_back(v.at(name).shape());
    }
    std::vector<Shape> out_shapes = op->infer(n, shapes);
    std::vector<Tensor*> out;
    for (size_t k = 0; k < n.outputs.size(); ++k) out.push_back(&(v[n.outputs[k]] = Tensor::empty(out_shapes[k])));
    std::unique_ptr<OpState> state;
    RunContext ctx{kernels, state};
    op->run(n, in, out, ctx);
  }
  return v.at(name.empty() ? g.outputs[0] : name);
}

}  // namespace

TEST_CASE("a U-Net's planned arena is under half its activations and reuse changes no value") {
  auto g = unet(4);
  Tensor image = Tensor::empty({1, 1, 64, 64, 64});
  float* p = image.f32();
  for (int64_t i = 0; i < image.numel(); ++i) p[i] = std::sin(0.001f * float(i)) + 0.25f * std::cos(0.37f * float(i));

  const kern::KernelTable& kernels = kern::ref_kernels();
  Executor ex(g, kernels);
  const auto t0 = std::chrono::steady_clock::now();
  Tensor planned = ex.run({image}).at(0);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const MemoryPlan& plan = ex.plan();
  MESSAGE("U-Net 1x1x64^3, " << g->nodes.size() << " nodes: arena " << plan.arena_bytes / 1048576.0
                             << " MiB, activations without reuse " << plan.activation_bytes / 1048576.0
                             << " MiB (ratio " << double(plan.arena_bytes) / double(plan.activation_bytes)
                             << "), run " << ms << " ms");
  CHECK(plan.activation_bytes > 0);
  CHECK(plan.arena_bytes < plan.activation_bytes / 2);

  Tensor naive = naive_run(*g, image, kernels);
  REQUIRE(planned.shape() == Shape{1, 2, 64, 64, 64});
  REQUIRE(naive.shape() == planned.shape());
  CHECK(std::memcmp(planned.raw(), naive.raw(), planned.nbytes()) == 0);

  // A second run through the same (now warm) arena gives the same bytes again.
  Tensor again = ex.run({image}).at(0);
  CHECK(std::memcmp(again.raw(), naive.raw(), again.nbytes()) == 0);
}

TEST_CASE("overlapping lifetimes never share arena bytes, except a slice and its root or a Conv written over its input") {
  auto g = unet(2);
  Executor ex(g, kern::ref_kernels());
  ex.run({Tensor::zeros({1, 1, 16, 16, 16})});
  const MemoryPlan& plan = ex.plan();
  std::set<std::pair<std::string, std::string>> in_place;  // (input, output) of each Conv
  for (const Node& n : ex.run_graph().nodes)
    if (n.op == "Conv") in_place.insert({n.inputs[0], n.outputs[0]});
  std::vector<std::pair<std::string, const TensorPlan*>> placed;
  for (const auto& kv : plan.tensors)
    if (kv.second.where == TensorPlan::Where::arena || kv.second.where == TensorPlan::Where::slice)
      placed.emplace_back(kv.first, &kv.second);
  REQUIRE(placed.size() > 10);
  int overlaps = 0, shared = 0;
  for (size_t i = 0; i < placed.size(); ++i)
    for (size_t j = i + 1; j < placed.size(); ++j) {
      const TensorPlan &a = *placed[i].second, &b = *placed[j].second;
      const size_t ab = static_cast<size_t>(a.shape.numel()) * sizeof(float), bb = static_cast<size_t>(b.shape.numel()) * sizeof(float);
      const bool live = a.first_step <= b.last_step && b.first_step <= a.last_step;
      const bool bytes = a.offset < b.offset + bb && b.offset < a.offset + ab;
      const std::string &an = placed[i].first, &bn = placed[j].first;
      const bool by_design = a.alias_of == bn || b.alias_of == an || in_place.count({an, bn}) || in_place.count({bn, an});
      overlaps += live && bytes && !by_design;
      shared += live && bytes && by_design;
      CHECK(a.offset + ab <= plan.arena_bytes);
    }
  CHECK(overlaps == 0);
  CHECK(shared > 0);
}

TEST_CASE("a Conv writes over an input nothing reads after it; planned without that, it does not") {
  // x -> conv a (1 -> 4) -> conv b (4 -> 4) -> conv c (4 -> 2) -> output; one sample.
  Graph g;
  // 96 planes: slabs of 8, so the scratch (two slabs' planes) is far under a tensor.
  g.inputs.push_back({"x", Shape{1, 1, 96, 5, 4}});
  std::map<std::string, Shape> shapes{{"x", Shape{1, 1, 96, 5, 4}}};
  std::string prev = "x";
  const int64_t chans[] = {1, 4, 4, 2};
  for (int i = 0; i < 3; ++i) {
    Node n;
    n.name = "conv" + std::to_string(i);
    n.op = "Conv";
    n.inputs = {prev, n.name + ".w"};
    n.outputs = {n.name};
    n.attrs.set_ints("pads", {1, 1, 1, 1, 1, 1});
    g.weights[n.name + ".w"] = Tensor::zeros({chans[i + 1], chans[i], 3, 3, 3});
    shapes[n.name + ".w"] = g.weights[n.name + ".w"].shape();
    shapes[n.name] = Shape{1, chans[i + 1], 96, 5, 4};
    g.nodes.push_back(n);
    prev = n.name;
  }
  g.outputs = {"conv2"};
  const std::vector<int> order = g.topological_order();
  const MemoryPlan with = plan_memory(g, order, shapes, {}, true);
  CHECK(with.tensors.at("conv0").where == TensorPlan::Where::arena);  // its input is the graph's
  CHECK(with.tensors.at("conv1").where == TensorPlan::Where::slice);  // over conv0
  CHECK(with.tensors.at("conv1").alias_of == "conv0");
  CHECK(with.tensors.at("conv0").last_step == 2);  // the root lives as long as what lies in it
  REQUIRE(with.scratch.count(1) == 1);  // conv1's slabs, in the arena for its step only
  CHECK(with.scratch.at(1).bytes * 4 <= with.tensors.at("conv1").bytes);
  CHECK(with.arena_bytes == with.tensors.at("conv0").bytes + with.scratch.at(1).bytes);
  const MemoryPlan without = plan_memory(g, order, shapes, {}, false);
  CHECK(without.tensors.at("conv1").where == TensorPlan::Where::arena);
  CHECK(without.scratch.empty());
  CHECK(without.arena_bytes == 2 * without.tensors.at("conv0").bytes);
  const MemoryPlan kept = plan_memory(g, order, shapes, {"conv0"}, true);  // a kept input is never overwritten
  CHECK(kept.tensors.at("conv1").where == TensorPlan::Where::arena);
}

TEST_CASE("a residual Conv writes over the residual it adds; values as without that") {
  // Two ResNet blocks: one with a shortcut conv, one with the identity (its residual is then
  // the first block's output, itself over the shortcut), then a head conv.
  UNetBuilder b;
  b.g.inputs.push_back({"x", Shape{1, 8, 12, 10, 9}});
  const std::string x = b.relu(b.conv("x", 8, 16, 1));
  const std::string out1 = b.relu(b.sum(b.conv(b.relu(b.conv(x, 16, 16, 3)), 16, 16, 3), b.conv(x, 16, 16, 1)));
  const std::string out2 = b.relu(b.sum(b.conv(b.relu(b.conv(out1, 16, 16, 3)), 16, 16, 3), out1));
  b.g.outputs = {b.conv(out2, 16, 4, 1)};
  auto g = std::make_shared<Graph>(std::move(b.g));
  Tensor image = Tensor::empty({1, 8, 12, 10, 9});
  for (int64_t i = 0; i < image.numel(); ++i) image.f32()[i] = std::sin(0.013f * float(i));

  for (const kern::KernelTable* kernels : kern::kernel_tables()) {
    CAPTURE(kernels->name);
    Executor ex(g, *kernels);
    Tensor planned = ex.run({image}).at(0);
    int over_residual = 0;
    for (const Node& n : ex.run_graph().nodes) {
      if (n.op != "Conv" || n.inputs.size() < 4 || n.inputs[3].empty()) continue;
      const TensorPlan& y = ex.plan().tensors.at(n.outputs[0]);
      const TensorPlan& r = ex.plan().tensors.at(n.inputs[3]);
      const std::string root = r.where == TensorPlan::Where::slice ? r.alias_of : n.inputs[3];
      CHECK(y.where == TensorPlan::Where::slice);
      CHECK(y.alias_of == root);
      over_residual += y.where == TensorPlan::Where::slice && y.alias_of == root && y.offset == r.offset;
    }
    CHECK(over_residual == 2);
    Tensor naive = naive_run(*g, image, kern::ref_kernels());
    REQUIRE(naive.shape() == planned.shape());
    if (kernels == &kern::ref_kernels()) {
      CHECK(std::memcmp(planned.raw(), naive.raw(), planned.nbytes()) == 0);
    } else {
      double err = 0;
      for (int64_t i = 0; i < naive.numel(); ++i) err = std::max(err, double(std::fabs(planned.f32()[i] - naive.f32()[i])));
      CHECK(err < 1e-4);
    }
    // A kept residual is not written over.
    ExecOptions keep;
    keep.keep = {out1};
    Tensor again = ex.run({image}, keep).at(0);
    CHECK(std::memcmp(again.raw(), planned.raw(), planned.nbytes()) == 0);
    Tensor kept = ex.tensor(out1), ref_out1 = naive_run(*g, image, kern::ref_kernels(), out1);
    double err = 0;
    for (int64_t i = 0; i < kept.numel(); ++i) err = std::max(err, double(std::fabs(kept.f32()[i] - ref_out1.f32()[i])));
    CHECK(err < 1e-4);
  }
}

TEST_CASE("a residual Conv whose input views the residual's bytes (an Identity) is not written over it") {
  // conv b adds shortcut s; conv d reads Identity(b) and adds b: d must not be written over b,
  // which it reads through the view (nor b over s: b has a view, whose readers the rule does
  // not follow).
  auto g = std::make_shared<Graph>();
  g->inputs.push_back({"x", Shape{1, 4, 6, 5, 4}});
  auto conv = [&](const std::string& name, const std::string& in, const std::string& residual) {
    Node n;
    n.name = name;
    n.op = "Conv";
    n.inputs = {in, name + ".w", name + ".b"};
    if (!residual.empty()) n.inputs.push_back(residual);
    n.outputs = {name};
    n.attrs.set_ints("pads", {1, 1, 1, 1, 1, 1});
    Tensor w = Tensor::empty({4, 4, 3, 3, 3});
    auto v = test::uniform_floats(w.numel(), static_cast<uint32_t>(name[0]), -0.2f, 0.2f);
    std::memcpy(w.f32(), v.data(), v.size() * sizeof(float));
    g->weights[name + ".w"] = w;
    g->weights[name + ".b"] = Tensor::zeros({4});
    g->nodes.push_back(n);
  };
  conv("s", "x", "");
  conv("a", "x", "");
  conv("b", "a", "s");
  g->nodes.push_back(test::node("v", "Identity", {"b"}, {"v"}));
  conv("d", "v", "b");
  conv("c", "d", "");
  g->outputs = {"c"};
  Tensor x = Tensor::empty({1, 4, 6, 5, 4});
  auto v = test::uniform_floats(x.numel(), 5);
  std::memcpy(x.f32(), v.data(), v.size() * sizeof(float));
  Executor ex(g, kern::ref_kernels());
  const Tensor got = ex.run({x}).at(0);
  CHECK(ex.plan().tensors.at("b").where == TensorPlan::Where::arena);
  CHECK(ex.plan().tensors.at("d").where == TensorPlan::Where::arena);
  const Tensor want = naive_run(*g, x, kern::ref_kernels());
  REQUIRE(got.shape() == want.shape());
  CHECK(std::memcmp(got.raw(), want.raw(), got.nbytes()) == 0);
}

TEST_CASE("a one-sample channel Concat is planned in place: its inputs are slices of its output") {
  auto g = unet(4);
  Executor ex(g, kern::ref_kernels());
  ex.run({Tensor::zeros({1, 1, 16, 16, 16})});
  const MemoryPlan& plan = ex.plan();
  std::set<std::string> concat_outputs;
  for (const Node& n : ex.run_graph().nodes)
    if (n.op == "Concat") concat_outputs.insert(n.outputs[0]);
  int slices = 0;
  for (const auto& kv : plan.tensors) {
    const TensorPlan& s = kv.second;
    if (s.where != TensorPlan::Where::slice || !concat_outputs.count(s.alias_of)) continue;
    ++slices;
    const TensorPlan& root = plan.tensors.at(s.alias_of);
    INFO(kv.first << " in " << s.alias_of);
    CHECK(root.where == TensorPlan::Where::arena);
    CHECK(s.offset >= root.offset);
    CHECK(s.offset + static_cast<size_t>(s.shape.numel()) * sizeof(float) <= root.offset + root.bytes);
    CHECK(root.first_step <= s.first_step);  // the output's bytes are reserved from the first slice on
    CHECK(root.last_step >= s.last_step);
  }
  CHECK(slices >= 6);  // both inputs of the three decoder Concats, and Conv inputs under their skips
}

TEST_CASE("layouts: a U-Net with 16..128 channels runs blocked between layers and equals the plain reference") {
  const kern::KernelTable& fast = kern::default_kernels();
  if (!fast.reorder) {
    vx::test::skip(std::string("blocked U-Net: the default kernels (") + fast.name + ") have no blocked layout");
    return;
  }
  auto g = unet(16);
  Tensor image = Tensor::empty({1, 1, 16, 16, 16});
  for (int64_t i = 0; i < image.numel(); ++i) image.f32()[i] = std::sin(0.01f * float(i));
  const Tensor want = naive_run(*g, image, kern::ref_kernels());

  Executor ex(g, fast);
  const Tensor got = ex.run({image}).at(0);
  REQUIRE(got.shape() == want.shape());
  float worst = 0.f;
  for (int64_t i = 0; i < got.numel(); ++i) worst = std::max(worst, std::fabs(got.f32()[i] - want.f32()[i]));
  MESSAGE("blocked U-Net vs plain reference: max |d| " << worst);
  CHECK(worst <= 1e-4f);  // softmax probabilities; oneDNN summation order
  int blocked = 0, reorders = 0;
  for (const Node& n : ex.run_graph().nodes) {
    blocked += n.attrs.get_int("vx_layout_y", 0) == 1;
    reorders += n.op == "LayoutReorder";
  }
  CHECK(blocked >= 20);   // every conv, pool, up-conv and concat but the 2-class head
  CHECK(reorders == 0);   // consecutive layers never convert

  // A kept tensor stays plain and readable; its blocked readers get one reorder.
  const std::string kept = g->nodes[3].outputs[0];  // the first level's second activation
  ExecOptions o;
  o.keep = {kept};
  const Tensor again = ex.run({image}, o).at(0);
  for (int64_t i = 0; i < got.numel(); ++i) REQUIRE(std::fabs(again.f32()[i] - want.f32()[i]) <= 1e-4f);
  int reorders_now = 0;
  for (const Node& n : ex.run_graph().nodes) reorders_now += n.op == "LayoutReorder";
  CHECK(reorders_now >= 1);
  const Tensor k = ex.tensor(kept);
  {  // the kept activation from the naive run
    Graph probe = *g;
    probe.outputs = {kept};
    const Tensor ref_kept = naive_run(probe, image, kern::ref_kernels());
    REQUIRE(ref_kept.shape() == k.shape());
    float d = 0.f;
    for (int64_t i = 0; i < k.numel(); ++i) d = std::max(d, std::fabs(k.f32()[i] - ref_kept.f32()[i]));
    CHECK(d <= 1e-4f);
  }
}

TEST_CASE("samples_per_chunk: a divisor of the batch near the voxel target") {
  CHECK(samples_per_chunk(Shape{20, 3, 224, 224}, 20) == 5);     // 50176 voxels a slice: 5 -> 250880
  CHECK(samples_per_chunk(Shape{20, 1, 128, 160}, 20) == 10);    // 12 would fit; 10 divides 20
  CHECK(samples_per_chunk(Shape{7, 1, 128, 160}, 7) == 7);       // the whole batch fits: no split
  CHECK(samples_per_chunk(Shape{13, 1, 128, 160}, 13, 100000) == 1);  // prime, over the target
  CHECK(samples_per_chunk(Shape{2, 1, 64, 128, 128}, 2) == 1);   // volumes run alone
  CHECK(samples_per_chunk(Shape{4, 1, 8, 8, 8}, 4, 1) == 1);
}

TEST_CASE("a batch of independent samples runs in chunks, with the batch's results") {
  auto g = unet(4);
  Tensor batch = Tensor::empty({3, 1, 8, 8, 8});
  for (int64_t i = 0; i < batch.numel(); ++i) batch.f32()[i] = std::cos(0.05f * float(i));
  const Tensor want = naive_run(*g, batch, kern::ref_kernels());
  Executor ex(g, kern::ref_kernels());
  ExecOptions o;
  o.chunk_voxels = 1;  // one sample a chunk
  const Tensor got = ex.run({batch}, o).at(0);
  REQUIRE(got.shape() == want.shape());
  CHECK(std::memcmp(got.raw(), want.raw(), got.nbytes()) == 0);  // same kernels, same arithmetic
  CHECK(ex.last_run_split());
  CHECK(ex.last_chunk() == 1);
  CHECK(ex.shapes().at("image")[0] == 3);  // shapes are the batch's
  CHECK(ex.plan().tensors.at(g->nodes[1].outputs[0]).shape[0] == 1);  // memory is one sample's
  {  // With the default target these small samples run as one batch.
    Executor whole(g, kern::ref_kernels());
    CHECK(std::memcmp(whole.run({batch}).at(0).raw(), want.raw(), want.nbytes()) == 0);
    CHECK(!whole.last_run_split());
  }
  {  // A batch of 4 in chunks of 2.
    Tensor four = Tensor::empty({4, 1, 8, 8, 8});
    for (int64_t i = 0; i < four.numel(); ++i) four.f32()[i] = std::sin(0.031f * float(i));
    const Tensor want4 = naive_run(*g, four, kern::ref_kernels());
    ExecOptions two;
    two.chunk_voxels = 2 * 512;
    const Tensor got4 = ex.run({four}, two).at(0);
    CHECK(ex.last_chunk() == 2);
    CHECK(ex.plan().tensors.at(g->nodes[1].outputs[0]).shape[0] == 2);
    REQUIRE(got4.shape() == want4.shape());
    CHECK(std::memcmp(got4.raw(), want4.raw(), got4.nbytes()) == 0);
    // A kept tensor gathered chunk by chunk equals a whole-batch run's.
    const std::string k = g->nodes[3].outputs[0];
    two.keep = {k};
    ex.run({four}, two);
    CHECK(ex.last_chunk() == 2);
    ExecOptions whole_keep;
    whole_keep.keep = {k};
    Executor whole4(g, kern::ref_kernels());
    whole4.run({four}, whole_keep);
    CHECK(!whole4.last_run_split());
    const Tensor a = ex.tensor(k), b = whole4.tensor(k);
    REQUIRE(a.shape() == b.shape());
    CHECK(a.shape()[0] == 4);
    CHECK(std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
  }
  {  // Under a memory limit that one sample fits and the chunk (or whole batch) does not: one at a time.
    ex.run({batch}, o);  // one sample a chunk
    const size_t one_sample = ex.plan().arena_bytes;
    Executor whole(g, kern::ref_kernels());
    whole.run({batch});
    const size_t three = whole.plan().arena_bytes;
    REQUIRE(three > one_sample);
    ExecOptions limited;
    limited.memory_limit = (one_sample + three) / 2;
    const Tensor a = whole.run({batch}, limited).at(0);
    CHECK(whole.last_chunk() == 1);
    CHECK(whole.plan().arena_bytes <= limited.memory_limit);
    CHECK(std::memcmp(a.raw(), want.raw(), want.nbytes()) == 0);
    Tensor six = Tensor::empty({6, 1, 8, 8, 8});
    for (int k = 0; k < 2; ++k) std::memcpy(six.f32() + k * batch.numel(), batch.raw(), batch.nbytes());
    limited.chunk_voxels = 3 * 512;  // chunks of 3: over the limit
    const Tensor b = whole.run({six}, limited).at(0);
    CHECK(whole.plan().arena_bytes <= limited.memory_limit);  // the chunk of 3 runs one sample at a time
    CHECK(std::memcmp(b.raw(), want.raw(), want.nbytes()) == 0);
    CHECK(std::memcmp(b.f32() + want.numel(), want.raw(), want.nbytes()) == 0);
    limited.memory_limit = one_sample - 1;
    try {
      whole.run({batch}, limited);
      FAIL("a limit under one sample's activations must refuse the run");
    } catch (const Error& e) {
      CHECK(e.status() == Status::limit_exceeded);
    }
  }
  // Progress counts every sample's steps.
  int64_t last_done = 0, last_total = 0;
  o.progress = [&](int64_t done, int64_t total) {
    CHECK(done > last_done);
    last_done = done, last_total = total;
    return false;
  };
  ex.run({batch}, o);
  CHECK(last_done == last_total);
  CHECK(last_total == 3 * static_cast<int64_t>(ex.run_graph().nodes.size()));
  // Tensors kept readable (Grad-CAM's layers): still in chunks, each kept tensor
  // gathered whole. Oracle: a whole-batch run keeping the same tensor (a weight in `keep`
  // stops the split: it has no batch axis to gather along).
  o.progress = nullptr;
  const std::string k0 = g->nodes[0].outputs[0], k1 = g->nodes[3].outputs[0];
  o.keep = {k0, k1};
  const Tensor kept_run = ex.run({batch}, o).at(0);
  CHECK(ex.last_run_split());
  CHECK(std::memcmp(kept_run.raw(), want.raw(), want.nbytes()) == 0);
  ExecOptions whole_opts;
  whole_opts.keep = {k0, k1, g->weights.begin()->first};
  Executor whole(g, kern::ref_kernels());
  const Tensor whole_run = whole.run({batch}, whole_opts).at(0);
  CHECK(!whole.last_run_split());
  CHECK(std::memcmp(whole_run.raw(), want.raw(), want.nbytes()) == 0);
  for (const std::string& k : {k0, k1}) {
    const Tensor a = ex.tensor(k), b = whole.tensor(k);
    REQUIRE(a.shape() == b.shape());
    CHECK(a.shape()[0] == 3);
    CHECK(std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
  }
  CHECK(std::memcmp(ex.tensor("image").raw(), batch.raw(), batch.nbytes()) == 0);  // inputs stay readable
  CHECK_THROWS(ex.tensor(g->nodes[1].outputs[0]));  // not kept
}

TEST_CASE("samples_independent refuses graphs that mix samples") {
  auto g = unet(4);
  auto shapes = infer_shapes(*g, g->topological_order(), {Shape{2, 1, 8, 8, 8}});
  CHECK(samples_independent(*g, shapes, 2));
  Graph mixed = *g;
  for (Node& n : mixed.nodes)
    if (n.op == "Concat") n.attrs.set_int("axis", 0);
  CHECK_FALSE(samples_independent(mixed, shapes, 2));
  Graph other = *g;
  other.nodes[1].op = "Transpose";  // not a per-sample op
  CHECK_FALSE(samples_independent(other, shapes, 2));
}
