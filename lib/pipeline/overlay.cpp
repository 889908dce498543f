#include "pipeline/overlay.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace vx::explain {
namespace {

// Drops leading 1-sized axes down to 3-D [D, H, W] (a 2-D image becomes depth 1).
Shape volume_shape(const Tensor& t, const char* what) {
  Shape s = t.shape();
  int first = 0;
  while (s.rank - first > 3 && s[first] == 1) ++first;
  if (s.rank - first < 2 || s.rank - first > 3)
    fail(Status::shape_mismatch, std::string(what) + " must be a 2-D or 3-D grid (plus 1-sized N, C), got " + s.str());
  Shape v;
  v.rank = 3;
  v[0] = s.rank - first == 3 ? s[first] : 1;
  v[1] = s[s.rank - 2];
  v[2] = s[s.rank - 1];
  return v;
}

cv::Mat slice_of(const float* v, const Shape& s, int axis, int64_t k) {
  const int64_t rows = axis == 0 ? s[1] : s[0], cols = axis == 2 ? s[1] : s[2];
  cv::Mat m(static_cast<int>(rows), static_cast<int>(cols), CV_32F);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t z = axis == 0 ? k : r, y = axis == 0 ? r : (axis == 1 ? k : c), x = axis == 2 ? k : c;
      m.at<float>(static_cast<int>(r), static_cast<int>(c)) = v[(z * s[1] + y) * s[2] + x];
    }
  return m;
}

cv::Mat blend(const cv::Mat& scan, float lo, float hi, const cv::Mat& map, float alpha) {
  cv::Mat grey, heat, grey3, out;
  scan.convertTo(grey, CV_8U, hi > lo ? 255.0 / (hi - lo) : 0.0, hi > lo ? -255.0 * lo / (hi - lo) : 0.0);
  cv::Mat m8;
  cv::Mat clipped = cv::min(cv::max(map, 0.0), 1.0);
  clipped.convertTo(m8, CV_8U, 255.0);
  cv::applyColorMap(m8, heat, cv::COLORMAP_INFERNO);
  cv::cvtColor(grey, grey3, cv::COLOR_GRAY2BGR);
  cv::addWeighted(grey3, 1.0 - alpha, heat, alpha, 0.0, out);
  return out;
}

struct Prepared {
  Shape s;
  Tensor scan, map;
  float lo, hi;
};

Prepared prepare(const Tensor& scan, const Tensor& map, const OverlayOptions& o) {
  Prepared p;
  p.s = volume_shape(scan, "scan");
  if (volume_shape(map, "map") != p.s)
    fail(Status::shape_mismatch, "map " + map.shape().str() + " is not on the scan's grid " + scan.shape().str());
  if (o.axis < 0 || o.axis > 2) fail(Status::invalid_argument, "overlay axis must be 0, 1 or 2");
  if (!(o.alpha >= 0.f && o.alpha <= 1.f)) fail(Status::invalid_argument, "overlay alpha must be in [0, 1]");
  p.scan = scan.is_contiguous() ? scan : scan.clone();
  p.map = map.is_contiguous() ? map : map.clone();
  p.lo = std::numeric_limits<float>::infinity();
  p.hi = -p.lo;
  for (int64_t i = 0; i < p.scan.numel(); ++i) {
    p.lo = std::min(p.lo, p.scan.f32()[i]);
    p.hi = std::max(p.hi, p.scan.f32()[i]);
  }
  return p;
}

cv::Mat overlay_slice(const Prepared& p, int64_t k, const OverlayOptions& o) {
  if (k < 0 || k >= p.s[o.axis])
    fail(Status::invalid_argument, "slice " + std::to_string(k) + " is outside 0.." + std::to_string(p.s[o.axis] - 1));
  return blend(slice_of(p.scan.f32(), p.s, o.axis, k), p.lo, p.hi, slice_of(p.map.f32(), p.s, o.axis, k), o.alpha);
}

}  // namespace

void write_png_atomic(const std::string& path, const cv::Mat& img) {
  const std::string tmp = path + ".tmp.png";
  bool ok = false;
  try {
    ok = cv::imwrite(tmp, img);
  } catch (const cv::Exception& e) {
    fail(Status::io_error, "cannot write " + tmp + ": " + e.what());
  }
  if (!ok) fail(Status::io_error, "cannot write " + tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(Status::io_error, "cannot rename " + tmp + " to " + path);
  }
}

void write_overlay_png(const std::string& path, const Tensor& scan, const Tensor& map, int64_t slice,
                       const OverlayOptions& options) {
  Prepared p = prepare(scan, map, options);
  write_png_atomic(path, overlay_slice(p, slice, options));
}

std::vector<uint8_t> overlay_rgb_slices(const Tensor& scan, const Tensor& map, const OverlayOptions& options) {
  Prepared p = prepare(scan, map, options);
  std::vector<uint8_t> out;
  for (int64_t k = 0; k < p.s[options.axis]; ++k) {
    cv::Mat bgr = overlay_slice(p, k, options), rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    out.insert(out.end(), rgb.data, rgb.data + rgb.total() * 3);  // a fresh cv::Mat is continuous
  }
  return out;
}

void write_montage_png(const std::string& path, const Tensor& scan, const Tensor& map,
                       const std::vector<int64_t>& slices, const OverlayOptions& options) {
  Prepared p = prepare(scan, map, options);
  std::vector<int64_t> ks = slices;
  if (ks.empty())
    for (int64_t k = 0; k < p.s[options.axis]; ++k) ks.push_back(k);
  const int cols = std::max(1, std::min(options.columns, static_cast<int>(ks.size())));
  const int rows = (static_cast<int>(ks.size()) + cols - 1) / cols;
  cv::Mat first = overlay_slice(p, ks[0], options);
  cv::Mat canvas(rows * first.rows, cols * first.cols, CV_8UC3, cv::Scalar(0, 0, 0));
  for (size_t i = 0; i < ks.size(); ++i) {
    cv::Mat tile = i == 0 ? first : overlay_slice(p, ks[i], options);
    const int r = static_cast<int>(i) / cols, c = static_cast<int>(i) % cols;
    tile.copyTo(canvas(cv::Rect(c * first.cols, r * first.rows, first.cols, first.rows)));
  }
  write_png_atomic(path, canvas);
}

}  // namespace vx::explain
