// Grad-CAM / Grad-CAM++ parity on CONVERTED models (gen_camconv_fixtures.py): 2-D ResNet-50,
// 3-D ResNet-18, the dual-encoder ResNet-101 (published depth and stem, one map per sequence)
// and a 2-D U-Net (segmentation Grad-CAM), random weights, converted by weights/convert.py.
// The layer comes from the .vxm metadata (`gradcam_layer`), the class is the engine's default;
// normalised maps must match PyTorch autograd within 1e-4 max abs, with the default and the
// reference kernels.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "common/fixtures.h"
#include "explain/gradcam.h"

using namespace vx;
using namespace vx::explain;

namespace {
const nlohmann::json& entry(const nlohmann::json& manifest, const std::string& name) {
  for (const auto& m : manifest.at("models"))
    if (m.at("name") == name) return m;
  throw std::runtime_error("no camconv case " + name);
}

void check_converted(const std::string& name) {
  const std::string dir = test::fixture_dir("camconv");
  const nlohmann::json manifest = test::read_json(dir + "/manifest.json");
  const nlohmann::json& e = entry(manifest, name);
  auto model = Model::load_file(dir + "/" + e.at("vxm").get<std::string>());
  std::vector<Tensor> inputs;
  for (const auto& in : e.at("inputs"))
    inputs.push_back(test::read_bin(dir + "/" + in.at("file").get<std::string>(), test::shape_of(in.at("shape"))));
  const auto layers = e.at("layers").get<std::vector<std::string>>();
  REQUIRE(model->metadata.at("gradcam_layer") == layers.back());
  const size_t want_maps = layers.size();

  struct Backend {
    const char* name;
    const kern::KernelTable& table;
  };
  for (const Backend& be : {Backend{"default", kern::default_kernels()}, Backend{"ref", kern::ref_kernels()}})
    for (CamMethod method : {CamMethod::gradcam, CamMethod::gradcam_pp}) {
      const char* key = method == CamMethod::gradcam ? "gradcam" : "gradcampp";
      CamOptions o;
      o.method = method;
      CamResult r = grad_cam(*model, inputs, o, be.table);
      INFO(name << " " << std::string(be.name) << " kernels, " << std::string(key));
      REQUIRE(r.maps.size() == want_maps);
      CHECK(r.target_class[0] == e.at("class").get<int64_t>());
      const float score = e.at("score").get<float>();
      CHECK(std::fabs(r.score[0] - score) <= 1e-4f * std::max(1.f, std::fabs(score)));
      for (size_t i = 0; i < want_maps; ++i) {
        CHECK(r.maps[i].layer == layers[i]);
        CHECK(r.maps[i].input == e.at("inputs")[i].at("name").get<std::string>());
        const auto& ref = e.at(key)[i];
        Tensor want = test::read_bin(dir + "/" + ref.at("file").get<std::string>(), test::shape_of(ref.at("shape")));
        REQUIRE(r.maps[i].map.shape() == want.shape());
        const double err = test::max_abs_diff(r.maps[i].map, want);
        MESSAGE(name << " " << std::string(be.name) << " " << std::string(key) << "[" << i << "] max abs diff " << err);
        CHECK(err <= 1e-4);
        if (method == CamMethod::gradcam) {
          const float hi = e.at("raw_max")[i].get<float>();
          CHECK(std::fabs(r.maps[i].raw_max[0] - hi) <= 1e-4f * std::max(1e-3f, std::fabs(hi)));
        }
      }
    }
}
}  // namespace

TEST_CASE("converted 2-D ResNet-50: Grad-CAM and Grad-CAM++ match PyTorch") { check_converted("resnet2d50_w8"); }
TEST_CASE("converted 3-D ResNet-18: Grad-CAM and Grad-CAM++ match PyTorch") { check_converted("resnet3d18_w8"); }
TEST_CASE("converted dual-encoder ResNet-101: one map per sequence, each matching PyTorch") {
  check_converted("dual_encoder101_w16");
}
TEST_CASE("converted 2-D U-Net: segmentation Grad-CAM and Grad-CAM++ match PyTorch") { check_converted("unet2d_b4"); }
