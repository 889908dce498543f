#include "image/geometry.h"

#include <cmath>
#include <cctype>
#include <cstring>
#include <vector>

namespace vx {
namespace {

// Limit on any output volume: a typo in a target size must not allocate terabytes.
constexpr double kMaxOutputVoxels = double(int64_t(1) << 31);

void check_size(const std::array<int64_t, 3>& size) {
  double n = 1;
  for (int64_t s : size) {
    if (s <= 0) fail(Status::invalid_argument, "target size must be positive on every axis");
    n *= double(s);
  }
  if (n > kMaxOutputVoxels) fail(Status::limit_exceeded, "target size exceeds 2^31 voxels");
}

Volume with_data(const Volume& v, const std::array<int64_t, 3>& size, const Mat4& new_to_old) {
  Volume out;
  out.header = v.header;
  out.affine = v.affine;
  compose_index_transform(out, new_to_old);
  out.data = Tensor::empty(Shape{size[2], size[1], size[0]});
  return out;
}

// One axis of separable linear sampling: the two source indices and the weight of the second.
struct Tap {
  int64_t i0, i1;
  float w1;
  bool inside;
};

void sample_separable(const float* src, const std::array<int64_t, 3>& nin, float* dst,
                      const std::array<int64_t, 3>& nout, const std::array<std::vector<Tap>, 3>& taps,
                      float fill) {
  const int64_t sx = 1, sy = nin[0], sz = nin[0] * nin[1];
  for (int64_t k = 0; k < nout[2]; ++k) {
    const Tap& tz = taps[2][k];
    for (int64_t j = 0; j < nout[1]; ++j) {
      const Tap& ty = taps[1][j];
      float* row = dst + (k * nout[1] + j) * nout[0];
      for (int64_t i = 0; i < nout[0]; ++i) {
        const Tap& tx = taps[0][i];
        if (!(tx.inside && ty.inside && tz.inside)) {
          row[i] = fill;
          continue;
        }
        auto at = [&](int64_t z, int64_t y, int64_t x) { return src[z * sz + y * sy + x * sx]; };
        float c00 = at(tz.i0, ty.i0, tx.i0) * (1 - tx.w1) + at(tz.i0, ty.i0, tx.i1) * tx.w1;
        float c01 = at(tz.i0, ty.i1, tx.i0) * (1 - tx.w1) + at(tz.i0, ty.i1, tx.i1) * tx.w1;
        float c10 = at(tz.i1, ty.i0, tx.i0) * (1 - tx.w1) + at(tz.i1, ty.i0, tx.i1) * tx.w1;
        float c11 = at(tz.i1, ty.i1, tx.i0) * (1 - tx.w1) + at(tz.i1, ty.i1, tx.i1) * tx.w1;
        float c0 = c00 * (1 - ty.w1) + c01 * ty.w1;
        float c1 = c10 * (1 - ty.w1) + c11 * ty.w1;
        row[i] = c0 * (1 - tz.w1) + c1 * tz.w1;
      }
    }
  }
}

Tap linear_tap(double x, int64_t n, bool bounded) {
  Tap t{0, 0, 0.f, true};
  if (bounded && (x < -1e-6 || x > double(n - 1) + 1e-6)) {
    t.inside = false;
    return t;
  }
  x = std::min(std::max(x, 0.0), double(n - 1));
  t.i0 = static_cast<int64_t>(std::floor(x));
  t.i1 = t.i0 < n - 1 ? t.i0 + 1 : t.i0;
  t.w1 = static_cast<float>(x - double(t.i0));
  return t;
}

Tap nearest_tap(double x, int64_t n) {
  Tap t{0, 0, 0.f, true};
  if (!(x >= -0.5 && x < double(n) - 0.5)) {
    t.inside = false;
    return t;
  }
  t.i0 = t.i1 = std::min<int64_t>(n - 1, std::max<int64_t>(0, static_cast<int64_t>(std::floor(x + 0.5))));
  return t;
}

void check_input(const Tensor& t) {
  require(t.defined() && t.rank() == 3 && t.dtype() == DType::f32 && t.is_contiguous() && t.numel() > 0,
          Status::invalid_argument, "expected a non-empty contiguous float32 tensor [D, H, W]");
}

// Torch-compatible index mapping for resize; returns taps and fills new_to_old (r, t).
std::vector<Tap> resize_taps(int64_t nin, int64_t nout, Interp interp, bool align_corners, double& r, double& t) {
  std::vector<Tap> taps(static_cast<size_t>(nout));
  if (interp == Interp::nearest) {
    const float scale = float(nin) / float(nout);
    r = double(nin) / double(nout), t = 0;
    for (int64_t o = 0; o < nout; ++o) {
      int64_t s = std::min<int64_t>(static_cast<int64_t>(std::floor(float(o) * scale)), nin - 1);
      taps[o] = Tap{s, s, 0.f, true};
    }
    return taps;
  }
  if (align_corners) {
    r = nout > 1 ? double(nin - 1) / double(nout - 1) : 0.0;
    t = 0;
  } else {
    r = double(nin) / double(nout);
    t = 0.5 * r - 0.5;
  }
  for (int64_t o = 0; o < nout; ++o) taps[o] = linear_tap(std::max(0.0, r * double(o) + t), nin, false);
  return taps;
}

}  // namespace

Volume reorient(const Volume& v, const std::string& code) {
  validate_volume(v);
  if (code.size() != 3) fail(Status::invalid_argument, "orientation code must have 3 letters: '" + code + "'");
  int world_axis[3], world_sign[3];
  bool used[3] = {false, false, false};
  for (int a = 0; a < 3; ++a) {
    char c = static_cast<char>(std::toupper(static_cast<unsigned char>(code[a])));
    const char* letters = "RLAPSI";
    const char* p = std::strchr(letters, c);
    if (!p || c == 0) fail(Status::invalid_argument, "bad orientation letter in '" + code + "'");
    int idx = static_cast<int>(p - letters);
    world_axis[a] = idx / 2;
    world_sign[a] = idx % 2 == 0 ? 1 : -1;
    if (used[world_axis[a]]) fail(Status::invalid_argument, "orientation code repeats an axis: '" + code + "'");
    used[world_axis[a]] = true;
  }
  const std::string cur = axcodes(v.affine);
  int cur_axis[3], cur_sign[3];
  for (int b = 0; b < 3; ++b) {
    int idx = static_cast<int>(std::strchr("RLAPSI", cur[b]) - "RLAPSI");
    cur_axis[b] = idx / 2;
    cur_sign[b] = idx % 2 == 0 ? 1 : -1;
  }
  const std::array<int64_t, 3> nin = v.size_ijk();
  const int64_t stride_in[3] = {1, nin[0], nin[0] * nin[1]};
  std::array<int64_t, 3> nout{};
  int64_t base = 0, step[3];
  Mat4 t{};
  t[15] = 1;
  for (int a = 0; a < 3; ++a) {
    int b = 0;
    while (cur_axis[b] != world_axis[a]) ++b;
    bool flip = cur_sign[b] != world_sign[a];
    nout[a] = nin[b];
    step[a] = flip ? -stride_in[b] : stride_in[b];
    if (flip) base += (nin[b] - 1) * stride_in[b];
    t[b * 4 + a] = flip ? -1 : 1;  // old index b = +-new index a (+ n_b - 1)
    if (flip) t[b * 4 + 3] = double(nin[b] - 1);
  }
  Volume out = with_data(v, nout, t);
  const float* src = v.voxels();
  float* dst = out.voxels();
  for (int64_t k = 0; k < nout[2]; ++k)
    for (int64_t j = 0; j < nout[1]; ++j) {
      const float* s = src + base + k * step[2] + j * step[1];
      float* d = dst + (k * nout[1] + j) * nout[0];
      for (int64_t i = 0; i < nout[0]; ++i) d[i] = s[i * step[0]];
    }
  return out;
}

Volume resample(const Volume& v, const ResampleOptions& opts) {
  validate_volume(v);
  const std::array<double, 3> sin = spacing(v);
  const std::array<int64_t, 3> nin = v.size_ijk();
  std::array<int64_t, 3> nout{};
  std::array<double, 3> sout{};
  for (int a = 0; a < 3; ++a) {
    double s = opts.spacing[a];
    if (!(s >= 0 && std::isfinite(s))) fail(Status::invalid_argument, "target spacing must be positive and finite");
    sout[a] = s > 0 ? s : sin[a];
    if (opts.size[a] < 0) fail(Status::invalid_argument, "target size must not be negative");
    double n = opts.size[a] > 0 ? double(opts.size[a]) : std::max(1.0, std::round(double(nin[a]) * sin[a] / sout[a]));
    if (n > kMaxOutputVoxels) fail(Status::limit_exceeded, "target size exceeds 2^31 voxels");
    nout[a] = static_cast<int64_t>(n);
  }
  check_size(nout);
  Mat4 t = mat4_identity();
  std::array<std::vector<Tap>, 3> taps;
  for (int a = 0; a < 3; ++a) {
    double r = sout[a] / sin[a], c_in = (nin[a] - 1) / 2.0, c_out = (nout[a] - 1) / 2.0;
    t[a * 4 + a] = r;
    t[a * 4 + 3] = c_in - c_out * r;
    taps[a].resize(static_cast<size_t>(nout[a]));
    for (int64_t o = 0; o < nout[a]; ++o) {
      double x = c_in + (double(o) - c_out) * r;
      taps[a][o] = opts.interp == Interp::linear ? linear_tap(x, nin[a], true) : nearest_tap(x, nin[a]);
    }
  }
  Volume out = with_data(v, nout, t);
  sample_separable(v.voxels(), nin, out.voxels(), nout, taps, opts.fill);
  return out;
}

Tensor resize(const Tensor& src, const std::array<int64_t, 3>& size, Interp interp, bool align_corners) {
  check_input(src);
  check_size(size);
  const std::array<int64_t, 3> nin = {src.dim(2), src.dim(1), src.dim(0)};
  std::array<std::vector<Tap>, 3> taps;
  for (int a = 0; a < 3; ++a) {
    double r, t;
    taps[a] = resize_taps(nin[a], size[a], interp, align_corners, r, t);
  }
  Tensor dst = Tensor::empty(Shape{size[2], size[1], size[0]});
  sample_separable(src.f32(), nin, dst.f32(), size, taps, 0.f);
  return dst;
}

Volume resize(const Volume& v, const std::array<int64_t, 3>& size, Interp interp, bool align_corners) {
  validate_volume(v);
  check_size(size);
  Mat4 t = mat4_identity();
  for (int a = 0; a < 3; ++a) {
    double r, off;
    resize_taps(v.size_ijk()[a], size[a], interp, align_corners, r, off);
    t[a * 4 + a] = r;
    t[a * 4 + 3] = off;
  }
  Volume out = with_data(v, size, t);
  out.data = resize(v.data, size, interp, align_corners);
  return out;
}

Volume crop_or_pad(const Volume& v, const std::array<int64_t, 3>& size, float fill) {
  validate_volume(v);
  check_size(size);
  const std::array<int64_t, 3> nin = v.size_ijk();
  std::array<int64_t, 3> off{};
  Mat4 t = mat4_identity();
  for (int a = 0; a < 3; ++a) {
    int64_t d = nin[a] - size[a];
    off[a] = d >= 0 ? d / 2 : -((-d + 1) / 2);  // floor division
    t[a * 4 + 3] = double(off[a]);
  }
  Volume out = with_data(v, size, t);
  const float* src = v.voxels();
  float* dst = out.voxels();
  for (int64_t k = 0; k < size[2]; ++k) {
    int64_t kk = k + off[2];
    for (int64_t j = 0; j < size[1]; ++j) {
      int64_t jj = j + off[1];
      float* d = dst + (k * size[1] + j) * size[0];
      bool row_in = kk >= 0 && kk < nin[2] && jj >= 0 && jj < nin[1];
      for (int64_t i = 0; i < size[0]; ++i) {
        int64_t ii = i + off[0];
        d[i] = row_in && ii >= 0 && ii < nin[0] ? src[(kk * nin[1] + jj) * nin[0] + ii] : fill;
      }
    }
  }
  return out;
}

}  // namespace vx
