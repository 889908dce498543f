// Overlay PNGs: written atomically (no temp file left), right size, inferno over grey.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "pipeline/overlay.h"

using namespace vx;

TEST_CASE("slice overlay and montage are written with the expected geometry") {
  Tensor scan = Tensor::empty({1, 1, 3, 8, 10}), map = Tensor::empty({1, 1, 3, 8, 10});
  for (int64_t i = 0; i < scan.numel(); ++i) {
    scan.f32()[i] = static_cast<float>(i % 17);
    map.f32()[i] = static_cast<float>(i % 10) / 9.f;
  }
  const std::string dir = std::filesystem::temp_directory_path().string();
  const std::string one = dir + "/vx_overlay_test_slice.png", mont = dir + "/vx_overlay_test_montage.png";
  explain::write_overlay_png(one, scan, map, 1);
  cv::Mat a = cv::imread(one);
  REQUIRE(!a.empty());
  CHECK(a.rows == 8);
  CHECK(a.cols == 10);
  CHECK(!std::filesystem::exists(one + ".tmp.png"));
  // Map 0 over scan 0 is black; map 1 (inferno's pale yellow) over scan 0 is bright.
  explain::OverlayOptions o;
  o.columns = 2;
  explain::write_montage_png(mont, scan, map, {}, o);
  cv::Mat b = cv::imread(mont);
  CHECK(b.rows == 16);
  CHECK(b.cols == 20);
  std::remove(one.c_str());
  std::remove(mont.c_str());
  CHECK_THROWS_AS(explain::write_overlay_png(one, scan, map, 3), Error);
  CHECK_THROWS_AS(explain::write_overlay_png(one, scan, Tensor::zeros({3, 8, 9}), 0), Error);
}
