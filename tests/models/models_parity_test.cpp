// Every published architecture, converted by weights/convert.py from its PyTorch reference
// module, loads with Model::load_file and matches PyTorch: max abs error <= tol_rel *
// max(1, max|ref|) (tol_rel = 1e-4 from the manifest), and the same argmax over axis 1
// wherever PyTorch's top-2 margin exceeds that tolerance (a closer call is a tie in float32).
// Cases marked slabbed_pool must also have run their stem Conv+MaxPool in slabs.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "common/fixtures.h"
#include "exec/executor.h"
#include "kernel_table.h"
#include "model/model.h"

using namespace vx;

namespace {

// Returns the number of positions whose argmax over axis 1 differs, ignoring near-ties.
int64_t argmax_mismatches(const Tensor& got, const Tensor& ref, double tol) {
  const int64_t n = ref.dim(0), c = ref.dim(1), inner = ref.numel() / (n * c);
  const float* g = got.f32();
  const float* r = ref.f32();
  int64_t bad = 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t ra = 0, ga = 0;
      float best = -INFINITY, second = -INFINITY;
      for (int64_t k = 0; k < c; ++k) {
        const float v = r[(b * c + k) * inner + i];
        if (v > best) {
          second = best;
          best = v;
          ra = k;
        } else if (v > second) {
          second = v;
        }
        if (g[(b * c + k) * inner + i] > g[(b * c + ga) * inner + i]) ga = k;
      }
      if (ra != ga && best - second > tol) ++bad;
    }
  return bad;
}

}  // namespace

TEST_CASE("published architectures match PyTorch") {
  const std::string dir = test::fixture_dir("models");
  const nlohmann::json manifest = test::read_json(dir + "/manifest.json");
  REQUIRE(manifest["models"].size() >= 8);
  const kern::KernelTable& kernels = kern::default_kernels();
  MESSAGE("kernel table: " << std::string(kernels.name));
  for (const auto& m : manifest["models"]) {
    const std::string name = m["name"].get<std::string>();
    CAPTURE(name);
    auto model = Model::load_file(dir + "/" + m["vxm"].get<std::string>());
    std::vector<Tensor> inputs;
    for (const auto& in : m["inputs"]) inputs.push_back(test::read_bin(dir + "/" + in["file"].get<std::string>(), test::shape_of(in["shape"])));
    Executor ex(model->graph, kernels);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Tensor> outs = ex.run(inputs);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    REQUIRE(outs.size() == m["outputs"].size());
    if (m.value("slabbed_pool", false)) {  // the stem ran in slabs: its scratch is a fraction of its output
      int slabbed = 0;
      for (const Node& n : ex.run_graph().nodes) {
        if (n.op != "Conv" || n.outputs.size() != 2) continue;
        ++slabbed;
        const Node& conv = ex.graph().nodes.at(ex.graph().find_node(n.name));
        const int64_t scratch = ex.plan().tensors.at(n.outputs[1]).shape.numel();
        const int64_t whole = ex.shapes().at(conv.outputs[0]).numel();
        MESSAGE(n.name << ": slab scratch " << scratch << " floats, whole conv output " << whole);
        CHECK(scratch * 2 < whole);
      }
      CHECK(slabbed == 1);
    }
    for (size_t k = 0; k < outs.size(); ++k) {
      const auto& o = m["outputs"][k];
      Tensor ref = test::read_bin(dir + "/" + o["file"].get<std::string>(), test::shape_of(o["shape"]));
      REQUIRE(outs[k].shape() == ref.shape());
      double max_ref = 0, max_err = 0;
      for (int64_t i = 0; i < ref.numel(); ++i) {
        max_ref = std::max(max_ref, double(std::fabs(ref.f32()[i])));
        max_err = std::max(max_err, double(std::fabs(outs[k].f32()[i] - ref.f32()[i])));
      }
      const double tol = m["tol_rel"].get<double>() * std::max(1.0, max_ref);
      std::printf("%-32s %7.3f s  max|ref| %.3g  max err %.3g  (tol %.3g)\n", name.c_str(), secs, max_ref, max_err, tol);
      CHECK(max_err <= tol);
      CHECK(std::isfinite(max_err));
      if (m["check"] == "argmax1") CHECK(argmax_mismatches(outs[k], ref, tol) == 0);
    }
  }
}
