// Montages of a scan as read (lib/pipeline/scan_montage.h). Oracle: the display rules written
// out by hand for three geometries, checked on the PNG read back with OpenCV (alpha 0, so a
// pixel is the scan's grey level, round(255 (v - min) / (max - min))):
//   RAS (axial slices): row r, column c shows voxel i = nx-1-c (patient's right on the left),
//                       j = ny-1-r (anterior at the top);
//   LPS:                i = c, j = r;
//   sagittal, voxel axes (i, j, k) -> (A, S, R) ("ASR"): rows are S/I, so j = ny-1-r (superior
//                       at the top), columns are A/P, so i = nx-1-c (anterior on the left).
// The picture is enlarged by a whole factor to >= 512 px wide; tiles follow the title band.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>

#include "core/error.h"
#include "pipeline/scan_montage.h"

using namespace vx;

namespace {

Volume make(int64_t nx, int64_t ny, int64_t nz, const Mat4& affine) {
  Volume v;
  v.data = Tensor::zeros({nz, ny, nx});
  for (int64_t k = 0; k < nz; ++k)
    for (int64_t j = 0; j < ny; ++j)
      for (int64_t i = 0; i < nx; ++i) v.data.f32()[(k * ny + j) * nx + i] = static_cast<float>(i + 10 * j + 100 * k);
  v.affine = affine;
  return v;
}

struct Expect {
  const char* name;
  Mat4 affine;
  bool flip_i, flip_j, rows_are_i;  // the rule above for this geometry
};

}  // namespace

TEST_CASE("tiles show the slices in radiological display orientation, enlarged to >= 512 px") {
  const int64_t nx = 5, ny = 7, nz = 3;
  // Rows of the affine: world x, y, z (RAS+); columns: voxel i, j, k.
  const Expect cases[] = {
      {"RAS", Mat4{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, true, true, false},
      {"LPS", Mat4{-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, false, false, false},
      {"ASR", Mat4{0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}, true, true, false},
  };
  const auto dir = std::filesystem::temp_directory_path() / "vx_scan_montage_test";
  std::filesystem::create_directories(dir);
  for (const auto& e : cases) {
    INFO(e.name);
    const Volume scan = make(nx, ny, nz, e.affine);
    REQUIRE(axcodes(scan.affine) == e.name);
    Volume map = scan;
    map.data = Tensor::zeros(scan.data.shape());
    explain::ScanMontageOptions o;
    o.alpha = 0.f;
    o.title = "test";
    const std::string path = (dir / (std::string(e.name) + ".png")).string();
    const auto ks = explain::write_scan_montage_png(path, scan, map, o);
    CHECK(ks == std::vector<int64_t>{0, 1, 2});
    const cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
    REQUIRE(!img.empty());
    CHECK(img.cols >= 512);
    const int64_t rows = ny, cols = nx;  // no case here puts i on the rows
    const int zoom = img.cols / static_cast<int>(3 * cols);
    REQUIRE(zoom * 3 * cols == img.cols);
    const float lo = 0.f, hi = static_cast<float>((nx - 1) + 10 * (ny - 1) + 100 * (nz - 1));
    // The tiles are the last rows*zoom pixel rows above the colour bar band; find the top from
    // the bottom: height = title + tile rows + bar (44 px for a heat map).
    const int top = img.rows - 44 - static_cast<int>(rows) * zoom;
    for (int64_t t = 0; t < 3; ++t)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          if (r == 0 && c < 3) continue;  // the slice label is drawn there
          const int64_t i = e.flip_i ? nx - 1 - c : c, j = e.flip_j ? ny - 1 - r : r;
          const float v = static_cast<float>(i + 10 * j + 100 * ks[t]);
          const int want = static_cast<int>(std::round((v - lo) / (hi - lo) * 255.f));
          const cv::Vec3b px = img.at<cv::Vec3b>(top + static_cast<int>(r) * zoom + zoom / 2,
                                                 static_cast<int>(t * cols + c) * zoom + zoom / 2);
          CHECK(std::abs(px[1] - want) <= 1);
        }
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a map off the scan's grid is refused and nothing is written") {
  const Volume scan = make(4, 4, 2, Mat4{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1});
  Volume map = scan;
  map.affine[3] = 0.5;
  const auto path = std::filesystem::temp_directory_path() / "vx_scan_montage_refused.png";
  std::filesystem::remove(path);
  CHECK_THROWS_AS(explain::write_scan_montage_png(path.string(), scan, map), Error);
  CHECK(!std::filesystem::exists(path));
}

TEST_CASE("many slices: at most max_slices, evenly spaced, in order") {
  const Volume scan = make(8, 8, 40, Mat4{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1});
  const auto path = std::filesystem::temp_directory_path() / "vx_scan_montage_many.png";
  const auto ks = explain::write_scan_montage_png(path.string(), scan, scan);
  REQUIRE(ks.size() == 12);
  for (size_t t = 1; t < ks.size(); ++t) CHECK(ks[t] > ks[t - 1]);
  CHECK(ks.front() <= 2);
  CHECK(ks.back() >= 37);
  std::filesystem::remove(path);
}
