#include "pipeline/scan_montage.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "pipeline/overlay.h"

namespace vx::explain {
namespace {

char axis_family(char c) {  // the world axis a letter names: x (L/R), y (A/P), z (S/I)
  return (c == 'L' || c == 'R') ? 'x' : (c == 'A' || c == 'P') ? 'y' : 'z';
}

// +1 when increasing the voxel index moves down the rows / right along the columns: toward the
// patient's inferior, posterior or left (superior, anterior and the patient's right come first).
int toward_later(char c) { return c == 'I' || c == 'P' || c == 'L' ? 1 : -1; }

void text(cv::Mat& img, const std::string& s, cv::Point at, double scale) {
  const int thick = std::max(1, static_cast<int>(std::lround(scale * 1.5)));
  cv::putText(img, s, at, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(0, 0, 0), thick + 2, cv::LINE_AA);
  cv::putText(img, s, at, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(255, 255, 255), thick, cv::LINE_AA);
}

std::vector<int64_t> chosen_slices(int64_t nz, int max_slices) {
  std::vector<int64_t> ks;
  const int64_t n = std::min<int64_t>(nz, std::max(1, max_slices));
  for (int64_t t = 0; t < n; ++t) ks.push_back(n == nz ? t : static_cast<int64_t>((t + 0.5) * nz / n));
  return ks;
}

}  // namespace

SliceView display_view(const Volume& scan) {
  const std::string code = axcodes(scan.affine);  // letters of voxel axes i, j, k
  // Rows: the in-plane axis running S/I, else the one running A/P, else j.
  int row_axis = 1;
  if (axis_family(code[0]) == 'z') row_axis = 0;
  else if (axis_family(code[1]) == 'z') row_axis = 1;
  else if (axis_family(code[0]) == 'y') row_axis = 0;
  const int col_axis = 1 - row_axis;
  const int64_t n[2] = {scan.nx(), scan.ny()};
  const int row_dir = toward_later(code[row_axis]);
  const int col_dir = toward_later(code[col_axis]);
  SliceView v;
  v.rows = n[row_axis];
  v.cols = n[col_axis];
  int64_t origin[2] = {0, 0};
  origin[row_axis] = row_dir > 0 ? 0 : n[row_axis] - 1;
  origin[col_axis] = col_dir > 0 ? 0 : n[col_axis] - 1;
  v.i0 = origin[0];
  v.j0 = origin[1];
  (row_axis == 0 ? v.di_r : v.dj_r) = row_dir;
  (col_axis == 0 ? v.di_c : v.dj_c) = col_dir;
  return v;
}

std::vector<int64_t> write_scan_montage_png(const std::string& path, const Volume& scan, const Volume& map,
                                            const ScanMontageOptions& o) {
  validate_volume(scan);
  validate_volume(map);
  bool same = scan.size_ijk() == map.size_ijk();
  for (int e = 0; e < 16 && same; ++e) same = std::fabs(scan.affine[e] - map.affine[e]) <= 1e-4;
  if (!same) fail(Status::shape_mismatch, "the montage's map is not on the scan's grid");
  if (!(o.alpha >= 0.f && o.alpha <= 1.f)) fail(Status::invalid_argument, "montage alpha must be in [0, 1]");
  if (o.columns < 1 || o.min_width < 1) fail(Status::invalid_argument, "montage columns and width must be >= 1");

  const SliceView view = display_view(scan);
  const std::vector<int64_t> ks = chosen_slices(scan.nz(), o.max_slices);
  const int cols = std::min<int>(o.columns, static_cast<int>(ks.size()));
  const int rows = (static_cast<int>(ks.size()) + cols - 1) / cols;
  const int64_t zoom = std::max<int64_t>(1, (o.min_width + cols * view.cols - 1) / (cols * view.cols));
  if (zoom * view.cols * cols > 16384 || zoom * view.rows * rows > 16384)
    fail(Status::invalid_argument, "the montage would be larger than 16384 pixels a side");
  const int tw = static_cast<int>(view.cols * zoom), th = static_cast<int>(view.rows * zoom);
  const double font = std::max(0.45, std::min(1.0, tw / 260.0));
  const int title_h = static_cast<int>(34 * font) + 8, bar_h = o.kind == ScanMontageOptions::Kind::heat ? 44 : 0;

  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (int64_t v = 0; v < scan.data.numel(); ++v) {
    lo = std::min(lo, scan.voxels()[v]);
    hi = std::max(hi, scan.voxels()[v]);
  }
  const float range = hi > lo ? hi - lo : 1.f;
  cv::Mat lut(1, 256, CV_8UC1), heat_lut;
  for (int t = 0; t < 256; ++t) lut.at<uchar>(t) = static_cast<uchar>(t);
  cv::applyColorMap(lut, heat_lut, cv::COLORMAP_INFERNO);

  cv::Mat canvas(title_h + rows * th + bar_h, cols * tw, CV_8UC3, cv::Scalar(0, 0, 0));
  const int64_t nx = scan.nx(), ny = scan.ny();
  for (size_t t = 0; t < ks.size(); ++t) {
    cv::Mat tile(static_cast<int>(view.rows), static_cast<int>(view.cols), CV_8UC3);
    for (int64_t r = 0; r < view.rows; ++r)
      for (int64_t c = 0; c < view.cols; ++c) {
        const int64_t i = view.i0 + c * view.di_c + r * view.di_r, j = view.j0 + c * view.dj_c + r * view.dj_r;
        const int64_t at = (ks[t] * ny + j) * nx + i;
        const float g = std::min(255.f, std::max(0.f, std::round((scan.voxels()[at] - lo) / range * 255.f)));
        const float m = map.voxels()[at];
        cv::Vec3f px(g, g, g), over = px;
        float a = 0.f;
        if (o.kind == ScanMontageOptions::Kind::heat) {
          const int level = static_cast<int>(std::round(std::min(1.f, std::max(0.f, std::isfinite(m) ? m : 0.f)) * 255.f));
          const cv::Vec3b h = heat_lut.at<cv::Vec3b>(level);
          over = cv::Vec3f(h[0], h[1], h[2]);
          a = o.alpha;
        } else if (m > 0.5f) {
          over = cv::Vec3f(0, 0, 255);  // BGR red
          a = o.alpha;
        }
        const cv::Vec3f out = px * (1.f - a) + over * a;
        tile.at<cv::Vec3b>(static_cast<int>(r), static_cast<int>(c)) =
            cv::Vec3b(cv::saturate_cast<uchar>(out[0]), cv::saturate_cast<uchar>(out[1]), cv::saturate_cast<uchar>(out[2]));
      }
    cv::Mat big;
    cv::resize(tile, big, cv::Size(tw, th), 0, 0, cv::INTER_NEAREST);
    const int x = static_cast<int>(t % cols) * tw, y = title_h + static_cast<int>(t / cols) * th;
    big.copyTo(canvas(cv::Rect(x, y, tw, th)));
    text(canvas, "k=" + std::to_string(ks[t]), cv::Point(x + 4, y + static_cast<int>(22 * font)), 0.6 * font);
  }
  text(canvas, o.title, cv::Point(6, static_cast<int>(26 * font) + 2), 0.8 * font);
  if (bar_h > 0) {
    const int y0 = title_h + rows * th + 6, x0 = 40, w = canvas.cols - 2 * x0;
    for (int x = 0; x < w; ++x) {
      const cv::Vec3b h = heat_lut.at<cv::Vec3b>(std::min(255, x * 256 / std::max(1, w)));
      cv::line(canvas, cv::Point(x0 + x, y0), cv::Point(x0 + x, y0 + 14), cv::Scalar(h[0], h[1], h[2]));
    }
    text(canvas, "0", cv::Point(x0 - 18, y0 + 13), 0.45);
    text(canvas, "1", cv::Point(x0 + w + 6, y0 + 13), 0.45);
    if (!o.bar_label.empty()) text(canvas, o.bar_label, cv::Point(x0, y0 + 34), 0.45);
  }
  write_png_atomic(path, canvas);
  return ks;
}

}  // namespace vx::explain
