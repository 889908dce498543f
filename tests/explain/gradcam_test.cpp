// Grad-CAM / Grad-CAM++ vs PyTorch (hooks, published recipe; gen_gradcam_fixtures.py cam_*):
// normalised maps differ by at most 1e-4 (max abs), raw maxima by 1e-4 relative. Plus the
// error contract, the default layer, and occlusion sensitivity against a brute-force sum.
#include <doctest/doctest.h>

#include "../common/graph_nodes.h"
#include "case_loader.h"
#include "explain/gradcam.h"

using namespace vx;
using namespace vx::explain;

namespace {
std::vector<Tensor> inputs_of(const test::GradCase& c) {
  std::vector<Tensor> v;
  for (const auto& gi : c.model->graph->inputs) v.push_back(c.tensor(gi.name));
  return v;
}

void check_cam(const std::string& name, size_t want_maps, int64_t cls = -1) {
  test::GradCase c = test::load_case(name);
  const auto layers = c.extra().at("layers").get<std::vector<std::string>>();
  for (CamMethod method : {CamMethod::gradcam, CamMethod::gradcam_pp}) {
    CamOptions o;
    o.method = method;
    o.layers = {layers[0]};
    o.target_class = cls;
    CamResult r = grad_cam(*c.model, inputs_of(c), o, kern::ref_kernels());
    REQUIRE(r.maps.size() == want_maps);
    CHECK(r.target_class[0] == c.extra().at("class").get<int64_t>());
    CHECK(std::fabs(r.score[0] - c.extra().at("score").get<float>()) <= 1e-4f * std::max(1.f, std::fabs(r.score[0])));
    for (size_t i = 0; i < want_maps; ++i) {
      CHECK(r.maps[i].layer == layers[i]);
      const std::string key = (method == CamMethod::gradcam ? "gradcam_" : "gradcampp_") + std::to_string(i);
      const double err = test::max_abs_diff(r.maps[i].map, c.tensor(key));
      INFO(name << " " << key << " max abs diff " << err);
      CHECK(err <= 1e-4);
      if (method == CamMethod::gradcam) {
        const float ref = c.extra().at("raw_max_" + std::to_string(i)).get<float>();
        CHECK(std::fabs(r.maps[i].raw_max[0] - ref) <= 1e-4f * std::max(1e-3f, ref));
      }
    }
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("Grad-CAM of a 2-D ResNet matches PyTorch") { check_cam("cam_resnet2d", 1); }
TEST_CASE("Grad-CAM of a 3-D ResNet matches PyTorch") { check_cam("cam_resnet3d", 1); }
TEST_CASE("the dual encoder gives one map per sequence, both matching PyTorch") {
  check_cam("cam_dual", 2);
  test::GradCase c = test::load_case("cam_dual");
  CamResult r = grad_cam(*c.model, inputs_of(c), {}, kern::ref_kernels());  // default layer
  REQUIRE(r.maps.size() == 2);
  CHECK(r.maps[0].input == "t1");
  CHECK(r.maps[1].input == "stir");
  CHECK(r.maps[0].map.shape() == Shape{1, 1, 6, 12, 12});
}
TEST_CASE("segmentation Grad-CAM of a 2-D U-Net (class 1 over its predicted region) matches PyTorch") {
  check_cam("cam_unet2d", 1, 1);
}

TEST_CASE("the default layer is the input of global pooling; metadata overrides it") {
  test::GradCase c = test::load_case("cam_resnet2d");
  const auto layers = c.extra().at("layers").get<std::vector<std::string>>();
  CHECK(resolve_cam_layers(*c.model, {}) == layers);
  const Node& stem_relu = c.model->graph->nodes[2];  // conv, bn, relu: the stem's output
  REQUIRE(stem_relu.op == "Relu");
  c.model->metadata["gradcam_layer"] = stem_relu.name;
  CHECK(resolve_cam_layers(*c.model, {}) == stem_relu.outputs);
}

TEST_CASE("bad requests give clear errors") {
  test::GradCase c = test::load_case("cam_resnet2d");
  auto in = inputs_of(c);
  CamOptions o;
  o.layers = {"no_such_layer"};
  CHECK(error_of([&] { grad_cam(*c.model, in, o); }).find("unknown Grad-CAM layer 'no_such_layer'") !=
        std::string::npos);
  o.layers = {};
  o.target_class = 3;
  CHECK(error_of([&] { grad_cam(*c.model, in, o); }).find("class 3 is out of range") != std::string::npos);

  // A tensor the output does not depend on: no differentiable path.
  auto g = std::make_shared<Graph>(*c.model->graph);
  g->nodes.push_back(test::node("side", "Relu", {"x"}, {"side_out"}));
  g->outputs.push_back("side_out");
  Model m;
  m.graph = g;
  m.order = g->topological_order();
  o = {};
  o.layers = {"side"};
  CHECK(error_of([&] { grad_cam(m, in, o); }).find("no differentiable path") != std::string::npos);
}

TEST_CASE("occlusion sensitivity equals the brute-force score drop, batched or not") {
  // score = w * mean(x) through Conv(1x1) -> GlobalAveragePool -> Flatten.
  auto g = std::make_shared<Graph>();
  g->inputs.push_back({"x", Shape{-1, 1, 6, 7}});
  g->weights["w"] = Tensor::empty({1, 1, 1, 1});
  g->weights["w"].f32()[0] = 2.f;
  Node conv{"conv", "Conv", {"x", "w"}, {"c"}, {}}, gap{"gap", "GlobalAveragePool", {"c"}, {"p"}, {}};
  Node flat{"flat", "Flatten", {"p"}, {"y"}, {}};
  g->nodes = {conv, gap, flat};
  g->outputs = {"y"};
  Model m;
  m.graph = g;
  m.order = g->topological_order();
  Tensor x = Tensor::empty({1, 1, 6, 7});
  for (int i = 0; i < 42; ++i) x.f32()[i] = static_cast<float>((i * 7) % 11) - 3.f;
  OcclusionOptions o;
  o.patch[1] = 3;
  o.patch[2] = 3;
  o.stride[1] = 2;
  o.stride[2] = 2;
  o.batch = 1;
  Tensor a = occlusion_sensitivity(m, {x}, o, kern::ref_kernels());
  o.batch = 5;
  Tensor b = occlusion_sensitivity(m, {x}, o, kern::ref_kernels());
  CHECK(test::max_abs_diff(a, b) <= 1e-6);
  // Brute force: patches start at 0, 2, (H-3) per axis; each drop = 2 * sum(patch) / 42.
  std::vector<int> ys = {0, 2}, xs = {0, 2, 4};
  ys.push_back(3);
  double sum[42] = {}, cnt[42] = {};
  for (int y0 : ys)
    for (int x0 : xs) {
      double s = 0;
      for (int y = y0; y < y0 + 3; ++y)
        for (int xx = x0; xx < x0 + 3; ++xx) s += x.f32()[y * 7 + xx];
      for (int y = y0; y < y0 + 3; ++y)
        for (int xx = x0; xx < x0 + 3; ++xx) {
          sum[y * 7 + xx] += 2 * s / 42;
          cnt[y * 7 + xx] += 1;
        }
    }
  double err = 0;
  for (int i = 0; i < 42; ++i) err = std::max(err, std::fabs(a.f32()[i] - (cnt[i] ? sum[i] / cnt[i] : 0)));
  CHECK(err <= 1e-5);
}
