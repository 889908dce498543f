// Sliding-window and slice-wise inference. The "networks" are simple local operators
// (3x3x3 box filter with zero padding, pointwise maps, window means), so the expected result
// can be computed directly. Tolerance 1e-4 absolute on values of order 1.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "pipeline/sliding_window.h"

using namespace vx;

namespace {

Tensor random_volume(int64_t c, int64_t d, int64_t h, int64_t w, unsigned seed) {
  Tensor t = Tensor::empty(Shape{c, d, h, w});
  unsigned s = seed;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s = s * 1664525u + 1013904223u;
    t.f32()[i] = float(s >> 8) / float(1 << 24);
  }
  return t;
}

// Box filter 3x3x3 (mean, zero padding) on every channel of [B, C, d, h, w].
Tensor box3(const Tensor& x) {
  const int64_t P = x.dim(0) * x.dim(1), D = x.dim(2), H = x.dim(3), W = x.dim(4);
  Tensor y = Tensor::zeros(x.shape());
  for (int64_t p = 0; p < P; ++p)
    for (int64_t z = 0; z < D; ++z)
      for (int64_t r = 0; r < H; ++r)
        for (int64_t c = 0; c < W; ++c) {
          double s = 0;
          for (int dz = -1; dz <= 1; ++dz)
            for (int dy = -1; dy <= 1; ++dy)
              for (int dx = -1; dx <= 1; ++dx) {
                int64_t zz = z + dz, yy = r + dy, xx = c + dx;
                if (zz >= 0 && zz < D && yy >= 0 && yy < H && xx >= 0 && xx < W)
                  s += x.f32()[((p * D + zz) * H + yy) * W + xx];
              }
          y.f32()[((p * D + z) * H + r) * W + c] = float(s / 27);
        }
  return y;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double d = 0;
  for (int64_t i = 0; i < a.numel(); ++i) d = std::max(d, double(std::fabs(a.f32()[i] - b.f32()[i])));
  return d;
}

}  // namespace

TEST_CASE("window starts follow nnU-Net") {
  CHECK(window_starts(20, 8, 0.5) == std::vector<int64_t>{0, 4, 8, 12});
  CHECK(window_starts(21, 8, 0.5) == std::vector<int64_t>{0, 3, 6, 10, 13});  // np.round(6.5) = 6
  CHECK(window_starts(8, 8, 0.5) == std::vector<int64_t>{0});
  CHECK(window_starts(5, 8, 0.5) == std::vector<int64_t>{0});
  CHECK(window_starts(100, 10, 0.0) == std::vector<int64_t>{0, 10, 20, 30, 40, 50, 60, 70, 80, 90});
  CHECK_THROWS_AS(window_starts(20, 8, 1.0), Error);
  CHECK_THROWS_AS(window_starts(20, 0, 0.5), Error);
}

TEST_CASE("where the network fits the whole volume the output equals the whole-volume output") {
  Tensor x = random_volume(1, 10, 12, 9, 1);
  Tensor whole = box3(x.reshape(Shape{1, 1, 10, 12, 9})).reshape(Shape{1, 10, 12, 9});
  for (bool mirror : {false, true}) {
    SlidingWindowOptions o;
    o.window = {12, 16, 16};  // larger than the volume on every axis: zero padding, then cropped
    o.mirror = mirror;        // the box filter is flip-symmetric, so mirroring changes nothing
    Tensor y = sliding_window_inference(x, box3, o);
    INFO("mirror " << mirror);
    CHECK(max_abs_diff(y, whole) <= 1e-4);
  }
}

TEST_CASE("pointwise network: blended windows reproduce it exactly, any batch, with TTA") {
  Tensor x = random_volume(2, 21, 17, 19, 2);
  auto net = [](const Tensor& b) {  // [B, 2, ...] -> [B, 3, ...]: 2a + b, a - b, a * b
    const int64_t B = b.dim(0), n = b.numel() / (B * 2);
    Tensor y = Tensor::empty(Shape{B, 3, b.dim(2), b.dim(3), b.dim(4)});
    for (int64_t i = 0; i < B; ++i)
      for (int64_t v = 0; v < n; ++v) {
        float a = b.f32()[(i * 2) * n + v], c = b.f32()[(i * 2 + 1) * n + v];
        y.f32()[(i * 3) * n + v] = 2 * a + c;
        y.f32()[(i * 3 + 1) * n + v] = a - c;
        y.f32()[(i * 3 + 2) * n + v] = a * c;
      }
    return y;
  };
  const int64_t n = 21 * 17 * 19;
  Tensor expect = Tensor::empty(Shape{3, 21, 17, 19});
  for (int64_t v = 0; v < n; ++v) {
    float a = x.f32()[v], c = x.f32()[n + v];
    expect.f32()[v] = 2 * a + c, expect.f32()[n + v] = a - c, expect.f32()[2 * n + v] = a * c;
  }
  for (int batch : {1, 3, 100}) {
    SlidingWindowOptions o;
    o.window = {8, 8, 8};
    o.batch_size = batch;
    o.mirror = batch == 3;
    int64_t calls = 0, last_total = 0, last_done = 0;
    o.progress = [&](int64_t done, int64_t total) {
      ++calls, last_done = done, last_total = total;
      return false;
    };
    Tensor y = sliding_window_inference(x, net, o);
    INFO("batch " << batch);
    CHECK(max_abs_diff(y, expect) <= 1e-4);
    const int64_t windows = 5 * 4 * 4;  // ceil((n - 8) / 4) + 1 windows per axis for n = 21, 17, 19
    CHECK(last_total == windows);
    CHECK(last_done == windows);
    CHECK(calls == (windows + batch - 1) / batch);
  }
}

TEST_CASE("Gaussian blending at the seams is the importance-weighted mean of the windows") {
  // The network answers each window with its own mean, so every seam voxel mixes several
  // different constants; the expectation is built here from exp() and the known starts.
  Tensor x = random_volume(1, 20, 8, 14, 3);
  auto net = [](const Tensor& b) {
    const int64_t B = b.dim(0), n = b.numel() / B;
    Tensor y = Tensor::empty(b.shape());
    for (int64_t i = 0; i < B; ++i) {
      double s = 0;
      for (int64_t v = 0; v < n; ++v) s += b.f32()[i * n + v];
      for (int64_t v = 0; v < n; ++v) y.f32()[i * n + v] = float(s / double(n));
    }
    return y;
  };
  SlidingWindowOptions o;
  o.window = {8, 8, 8};
  o.overlap = 0.5;
  o.batch_size = 4;
  Tensor y = sliding_window_inference(x, net, o);

  const std::vector<int64_t> sd = {0, 4, 8, 12}, sh = {0}, sw = {0, 3, 6};
  auto g1 = [](int64_t i) { double s = 8.0 / 8, c = 4; return std::exp(-(i - c) * (i - c) / (2 * s * s)); };
  std::vector<double> num(20 * 8 * 14, 0), den(20 * 8 * 14, 0);
  for (int64_t z0 : sd)
    for (int64_t y0 : sh)
      for (int64_t x0 : sw) {
        double mean = 0;
        for (int64_t z = 0; z < 8; ++z)
          for (int64_t r = 0; r < 8; ++r)
            for (int64_t c = 0; c < 8; ++c) mean += x.f32()[((z0 + z) * 8 + y0 + r) * 14 + x0 + c];
        mean /= 512;
        for (int64_t z = 0; z < 8; ++z)
          for (int64_t r = 0; r < 8; ++r)
            for (int64_t c = 0; c < 8; ++c) {
              double g = g1(z) * g1(r) * g1(c);
              int64_t i = ((z0 + z) * 8 + y0 + r) * 14 + x0 + c;
              num[i] += g * mean, den[i] += g;
            }
      }
  double worst = 0, spread = 0;
  for (size_t i = 0; i < num.size(); ++i) worst = std::max(worst, std::fabs(num[i] / den[i] - y.f32()[i]));
  for (int64_t i = 1; i < y.numel(); ++i) spread = std::max(spread, double(std::fabs(y.f32()[i] - y.f32()[0])));
  CHECK(worst <= 1e-4);
  CHECK(spread > 1e-3);  // the windows really differ, so the blend is tested
  // importance map: 1 at the centre, smaller at the edges, never 0
  Tensor g = gaussian_importance({8, 8, 8});
  CHECK(g.f32()[(4 * 8 + 4) * 8 + 4] == doctest::Approx(1.0));
  CHECK(g.f32()[0] > 0.f);
  CHECK(g.f32()[0] < 1e-6f);
  // uniform weighting gives the plain mean of overlapping windows: differs from Gaussian
  o.gaussian = false;
  Tensor u = sliding_window_inference(x, net, o);
  CHECK(max_abs_diff(u, y) > 1e-4);
}

TEST_CASE("bad networks and options are reported; cancellation works") {
  Tensor x = random_volume(1, 10, 10, 10, 4);
  SlidingWindowOptions o;
  o.window = {6, 6, 6};
  CHECK_THROWS_AS(sliding_window_inference(x, [](const Tensor& b) { return b.slice(2, 0, 2).clone(); }, o), Error);
  CHECK_THROWS_AS(sliding_window_inference(x, [](const Tensor&) { return Tensor(); }, o), Error);
  CHECK_THROWS_AS(sliding_window_inference(x, BatchFn(), o), Error);
  SlidingWindowOptions bad = o;
  bad.window = {0, 6, 6};
  CHECK_THROWS_AS(sliding_window_inference(x, box3, bad), Error);
  bad = o;
  bad.overlap = 1.5;
  CHECK_THROWS_AS(sliding_window_inference(x, box3, bad), Error);
  o.progress = [](int64_t done, int64_t) { return done >= 2; };
  try {
    sliding_window_inference(x, box3, o);
    CHECK(false);
  } catch (const Error& e) {
    CHECK(e.status() == Status::cancelled);
  }
}

TEST_CASE("slice-wise 2D inference equals the per-slice network, with batching and mirroring") {
  Tensor x = random_volume(2, 7, 9, 11, 5);
  auto box2 = [](const Tensor& b) {  // [B, C, H, W] -> [B, 1, H, W]: 3x3 mean of channel sum
    const int64_t B = b.dim(0), C = b.dim(1), H = b.dim(2), W = b.dim(3);
    Tensor y = Tensor::zeros(Shape{B, 1, H, W});
    for (int64_t i = 0; i < B; ++i)
      for (int64_t r = 0; r < H; ++r)
        for (int64_t c = 0; c < W; ++c) {
          double s = 0;
          for (int64_t ch = 0; ch < C; ++ch)
            for (int dy = -1; dy <= 1; ++dy)
              for (int dx = -1; dx <= 1; ++dx)
                if (r + dy >= 0 && r + dy < H && c + dx >= 0 && c + dx < W)
                  s += b.f32()[((i * C + ch) * H + r + dy) * W + c + dx];
          y.f32()[(i * H + r) * W + c] = float(s / 9);
        }
    return y;
  };
  Tensor expect = Tensor::empty(Shape{1, 7, 9, 11});
  for (int64_t d = 0; d < 7; ++d) {
    Tensor one = Tensor::empty(Shape{1, 2, 9, 11});
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t i = 0; i < 99; ++i) one.f32()[c * 99 + i] = x.f32()[(c * 7 + d) * 99 + i];
    Tensor r = box2(one);
    for (int64_t i = 0; i < 99; ++i) expect.f32()[d * 99 + i] = r.f32()[i];
  }
  for (int batch : {1, 3, 8}) {
    SliceOptions o;
    o.batch_size = batch;
    o.mirror = batch == 3;
    CHECK(max_abs_diff(slice_inference_2d(x, box2, o), expect) <= 1e-4);
  }
}
