#include "pipeline/sliding_window.h"

#include <algorithm>
#include <cmath>

namespace vx {
namespace {

void check_input4(const Tensor& t) {
  require(t.defined() && t.rank() == 4 && t.dtype() == DType::f32 && t.is_contiguous() && t.numel() > 0,
          Status::invalid_argument, "inference input must be a non-empty contiguous float32 tensor [C, D, H, W]");
}

// Flips a contiguous [B, C, d, h, w] tensor in place along the given spatial axes.
void flip_spatial(Tensor& t, const std::array<bool, 3>& axes) {
  const int64_t planes = t.dim(0) * t.dim(1), d = t.dim(2), h = t.dim(3), w = t.dim(4);
  Tensor src = t.clone();
  const float* s = src.f32();
  float* o = t.f32();
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t z = 0; z < d; ++z)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          int64_t zz = axes[0] ? d - 1 - z : z, yy = axes[1] ? h - 1 - y : y, xx = axes[2] ? w - 1 - x : x;
          o[((p * d + z) * h + y) * w + x] = s[((p * d + zz) * h + yy) * w + xx];
        }
}

// Runs the network on `batch` with optional mirroring; returns the averaged [B, K, d, h, w].
Tensor run_tta(const Tensor& batch, const BatchFn& net, bool mirror, const std::array<bool, 3>& axes, bool is2d) {
  std::vector<std::array<bool, 3>> flips = {{false, false, false}};
  if (mirror)
    for (int m = 1; m < 8; ++m) {
      std::array<bool, 3> f = {bool(m & 1), bool(m & 2), bool(m & 4)};
      if ((f[0] && !axes[0]) || (f[1] && !axes[1]) || (f[2] && !axes[2])) continue;
      flips.push_back(f);
    }
  const int64_t b = batch.dim(0), d = batch.dim(2), h = batch.dim(3), w = batch.dim(4);
  Tensor acc;
  for (const auto& f : flips) {
    Tensor in = batch.clone();
    bool any = f[0] || f[1] || f[2];
    if (any) flip_spatial(in, f);
    Tensor net_in = is2d ? in.reshape(Shape{b, batch.dim(1), h, w}) : in;
    Tensor out = net(net_in);
    if (!out.defined() || out.dtype() != DType::f32 || out.numel() == 0)
      fail(Status::shape_mismatch, "network returned an empty or non-float32 tensor");
    bool ok = is2d ? (out.rank() == 4 && out.dim(0) == b && out.dim(2) == h && out.dim(3) == w)
                   : (out.rank() == 5 && out.dim(0) == b && out.dim(2) == d && out.dim(3) == h && out.dim(4) == w);
    if (!ok)
      fail(Status::shape_mismatch, "network output " + out.shape().str() + " does not match its input " +
                                       net_in.shape().str() + " (expected [B, K, spatial...] with the same B and spatial size)");
    Tensor o5 = out.clone().reshape(Shape{b, out.dim(1), d, h, w});
    if (any) flip_spatial(o5, f);
    if (!acc.defined()) {
      acc = o5;
    } else {
      if (acc.dim(1) != o5.dim(1)) fail(Status::shape_mismatch, "network output channels changed between calls");
      float* a = acc.f32();
      const float* x = o5.f32();
      for (int64_t i = 0; i < acc.numel(); ++i) a[i] += x[i];
    }
  }
  if (flips.size() > 1) {
    float inv = 1.f / float(flips.size());
    float* a = acc.f32();
    for (int64_t i = 0; i < acc.numel(); ++i) a[i] *= inv;
  }
  return acc;
}

}  // namespace

std::vector<int64_t> window_starts(int64_t size, int64_t window, double overlap) {
  if (window <= 0 || size <= 0) fail(Status::invalid_argument, "window and image size must be positive");
  if (!(overlap >= 0 && overlap < 1)) fail(Status::invalid_argument, "overlap must be in [0, 1)");
  if (size <= window) return {0};
  const double target_step = std::max(1.0, double(window) * (1 - overlap));
  const int64_t n = static_cast<int64_t>(std::ceil(double(size - window) / target_step)) + 1;
  const double step = double(size - window) / double(n - 1);
  std::vector<int64_t> s(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) s[i] = static_cast<int64_t>(std::nearbyint(step * double(i)));  // half to even, as np.round
  return s;
}

Tensor gaussian_importance(const std::array<int64_t, 3>& window, double sigma_scale) {
  if (!(sigma_scale > 0)) fail(Status::invalid_argument, "sigma_scale must be positive");
  std::array<std::vector<double>, 3> g;
  for (int a = 0; a < 3; ++a) {
    if (window[a] <= 0) fail(Status::invalid_argument, "window must be positive");
    const double c = double(window[a] / 2), s = double(window[a]) * sigma_scale;
    g[a].resize(static_cast<size_t>(window[a]));
    for (int64_t i = 0; i < window[a]; ++i) g[a][i] = std::exp(-(double(i) - c) * (double(i) - c) / (2 * s * s));
  }
  Tensor t = Tensor::empty(Shape{window[0], window[1], window[2]});
  float* p = t.f32();
  float min_pos = 1.f;
  for (int64_t z = 0; z < window[0]; ++z)
    for (int64_t y = 0; y < window[1]; ++y)
      for (int64_t x = 0; x < window[2]; ++x) {
        float v = static_cast<float>(g[0][z] * g[1][y] * g[2][x]);
        *p++ = v;
        if (v > 0) min_pos = std::min(min_pos, v);
      }
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!(t.f32()[i] > 0)) t.f32()[i] = min_pos;  // never divide by zero weight
  return t;
}

Tensor sliding_window_inference(const Tensor& input, const BatchFn& net, const SlidingWindowOptions& opts) {
  check_input4(input);
  if (!net) fail(Status::invalid_argument, "no network callable given");
  if (opts.batch_size < 1) fail(Status::invalid_argument, "batch_size must be >= 1");
  const int64_t C = input.dim(0);
  const std::array<int64_t, 3> n = {input.dim(1), input.dim(2), input.dim(3)};
  std::array<int64_t, 3> win = opts.window, padded{}, pad_before{};
  for (int a = 0; a < 3; ++a) {
    if (win[a] <= 0) fail(Status::invalid_argument, "sliding window size must be positive on every axis");
    padded[a] = std::max(n[a], win[a]);
    pad_before[a] = (padded[a] - n[a]) / 2;
  }
  std::array<std::vector<int64_t>, 3> starts;
  for (int a = 0; a < 3; ++a) starts[a] = window_starts(padded[a], win[a], opts.overlap);
  struct Pos { int64_t z, y, x; };
  std::vector<Pos> pos;
  for (int64_t z : starts[0])
    for (int64_t y : starts[1])
      for (int64_t x : starts[2]) pos.push_back({z, y, x});
  const int64_t total = static_cast<int64_t>(pos.size());

  // Padded copy of the input only when needed.
  Tensor src = input;
  if (padded != n) {
    src = Tensor::empty(Shape{C, padded[0], padded[1], padded[2]});
    float* d = src.f32();
    for (int64_t i = 0; i < src.numel(); ++i) d[i] = opts.pad_value;
    const float* s = input.f32();
    for (int64_t c = 0; c < C; ++c)
      for (int64_t z = 0; z < n[0]; ++z)
        for (int64_t y = 0; y < n[1]; ++y) {
          const float* row = s + ((c * n[0] + z) * n[1] + y) * n[2];
          float* dst = d + ((c * padded[0] + z + pad_before[0]) * padded[1] + y + pad_before[1]) * padded[2] + pad_before[2];
          std::copy(row, row + n[2], dst);
        }
  }
  Tensor weight_map = opts.gaussian ? gaussian_importance(win, opts.sigma_scale) : Tensor::empty(Shape{win[0], win[1], win[2]});
  if (!opts.gaussian)
    for (int64_t i = 0; i < weight_map.numel(); ++i) weight_map.f32()[i] = 1.f;
  const float* g = weight_map.f32();
  const int64_t wvox = win[0] * win[1] * win[2];
  const int64_t P = padded[0] * padded[1] * padded[2];
  std::vector<float> wsum(static_cast<size_t>(P), 0.f);
  Tensor acc;
  int64_t K = 0;
  const float* sp = src.f32();

  for (int64_t first = 0; first < total; first += opts.batch_size) {
    const int64_t B = std::min<int64_t>(opts.batch_size, total - first);
    Tensor batch = Tensor::empty(Shape{B, C, win[0], win[1], win[2]});
    float* bp = batch.f32();
    for (int64_t b = 0; b < B; ++b) {
      const Pos& p = pos[first + b];
      for (int64_t c = 0; c < C; ++c)
        for (int64_t z = 0; z < win[0]; ++z)
          for (int64_t y = 0; y < win[1]; ++y) {
            const float* row = sp + ((c * padded[0] + p.z + z) * padded[1] + p.y + y) * padded[2] + p.x;
            std::copy(row, row + win[2], bp + (((b * C + c) * win[0] + z) * win[1] + y) * win[2]);
          }
    }
    Tensor out = run_tta(batch, net, opts.mirror, opts.mirror_axes, false);
    if (!acc.defined()) {
      K = out.dim(1);
      acc = Tensor::zeros(Shape{K, padded[0], padded[1], padded[2]});
    } else if (out.dim(1) != K) {
      fail(Status::shape_mismatch, "network output channels changed between batches");
    }
    float* ap = acc.f32();
    const float* op = out.f32();
    for (int64_t b = 0; b < B; ++b) {
      const Pos& p = pos[first + b];
      for (int64_t z = 0; z < win[0]; ++z)
        for (int64_t y = 0; y < win[1]; ++y) {
          const int64_t dst_row = ((p.z + z) * padded[1] + p.y + y) * padded[2] + p.x;
          const float* grow = g + (z * win[1] + y) * win[2];
          for (int64_t x = 0; x < win[2]; ++x) wsum[dst_row + x] += grow[x];
          for (int64_t k = 0; k < K; ++k) {
            const float* orow = op + ((b * K + k) * wvox) + (z * win[1] + y) * win[2];
            float* arow = ap + k * P + dst_row;
            for (int64_t x = 0; x < win[2]; ++x) arow[x] += orow[x] * grow[x];
          }
        }
    }
    if (opts.progress && opts.progress(first + B, total))
      fail(Status::cancelled, "sliding-window inference cancelled by the progress callback");
  }

  Tensor result = Tensor::empty(Shape{K, n[0], n[1], n[2]});
  const float* ap = acc.f32();
  float* rp = result.f32();
  for (int64_t k = 0; k < K; ++k)
    for (int64_t z = 0; z < n[0]; ++z)
      for (int64_t y = 0; y < n[1]; ++y)
        for (int64_t x = 0; x < n[2]; ++x) {
          const int64_t pi = ((z + pad_before[0]) * padded[1] + y + pad_before[1]) * padded[2] + x + pad_before[2];
          rp[((k * n[0] + z) * n[1] + y) * n[2] + x] = ap[k * P + pi] / wsum[pi];
        }
  return result;
}

Tensor slice_inference_2d(const Tensor& input, const BatchFn& net2d, const SliceOptions& opts) {
  check_input4(input);
  if (!net2d) fail(Status::invalid_argument, "no network callable given");
  if (opts.batch_size < 1) fail(Status::invalid_argument, "batch_size must be >= 1");
  const int64_t C = input.dim(0), D = input.dim(1), H = input.dim(2), W = input.dim(3);
  const float* s = input.f32();
  Tensor result;
  int64_t K = 0;
  for (int64_t first = 0; first < D; first += opts.batch_size) {
    const int64_t B = std::min<int64_t>(opts.batch_size, D - first);
    Tensor batch = Tensor::empty(Shape{B, C, 1, H, W});  // a depth-1 3D batch, reshaped for the net
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < C; ++c) {
        const float* plane = s + (c * D + first + b) * H * W;
        std::copy(plane, plane + H * W, batch.f32() + (b * C + c) * H * W);
      }
    Tensor out = run_tta(batch, net2d, opts.mirror, {false, true, true}, true);
    if (!result.defined()) {
      K = out.dim(1);
      result = Tensor::empty(Shape{K, D, H, W});
    } else if (out.dim(1) != K) {
      fail(Status::shape_mismatch, "network output channels changed between batches");
    }
    for (int64_t b = 0; b < B; ++b)
      for (int64_t k = 0; k < K; ++k) {
        const float* plane = out.f32() + (b * K + k) * H * W;
        std::copy(plane, plane + H * W, result.f32() + (k * D + first + b) * H * W);
      }
    if (opts.progress && opts.progress(first + B, D))
      fail(Status::cancelled, "slice-wise inference cancelled by the progress callback");
  }
  return result;
}

}  // namespace vx
