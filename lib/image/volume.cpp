#include "image/volume.h"

#include <cmath>

namespace vx {

Mat4 mat4_identity() { return {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}; }

Mat4 mat4_mul(const Mat4& a, const Mat4& b) {
  Mat4 c{};
  for (int r = 0; r < 4; ++r)
    for (int k = 0; k < 4; ++k)
      for (int col = 0; col < 4; ++col) c[r * 4 + col] += a[r * 4 + k] * b[k * 4 + col];
  return c;
}

Mat4 mat4_inverse(const Mat4& m) {
  // Gauss-Jordan with partial pivoting; 4x4 is small enough for clarity over speed.
  double a[4][8];
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 8; ++c) a[r][c] = c < 4 ? m[r * 4 + c] : (c - 4 == r ? 1.0 : 0.0);
  for (int c = 0; c < 4; ++c) {
    int p = c;
    for (int r = c + 1; r < 4; ++r)
      if (std::fabs(a[r][c]) > std::fabs(a[p][c])) p = r;
    if (!(std::fabs(a[p][c]) > 1e-12)) fail(Status::invalid_argument, "affine matrix is singular");
    if (p != c)
      for (int k = 0; k < 8; ++k) std::swap(a[p][k], a[c][k]);
    double d = a[c][c];
    for (int k = 0; k < 8; ++k) a[c][k] /= d;
    for (int r = 0; r < 4; ++r) {
      if (r == c) continue;
      double f = a[r][c];
      for (int k = 0; k < 8; ++k) a[r][k] -= f * a[c][k];
    }
  }
  Mat4 inv{};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) inv[r * 4 + c] = a[r][c + 4];
  return inv;
}

std::array<double, 3> spacing(const Mat4& a) {
  std::array<double, 3> s{};
  for (int c = 0; c < 3; ++c)
    s[c] = std::sqrt(a[c] * a[c] + a[4 + c] * a[4 + c] + a[8 + c] * a[8 + c]);
  return s;
}

double voxel_volume_mm3(const Mat4& a) {
  double det = a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) +
               a[2] * (a[4] * a[9] - a[5] * a[8]);
  return std::fabs(det);
}

std::string axcodes(const Mat4& a) {
  // nibabel's io_orientation: per voxel axis in order, the world axis with the largest
  // |component| among those not yet taken (on the columns scaled to unit length).
  static const char pos[3] = {'R', 'A', 'S'}, neg[3] = {'L', 'P', 'I'};
  std::array<double, 3> s = spacing(a);
  bool taken[3] = {false, false, false};
  std::string code(3, '?');
  for (int c = 0; c < 3; ++c) {
    int best = -1;
    double best_v = 0;
    for (int r = 0; r < 3; ++r) {
      if (taken[r]) continue;
      double v = s[c] > 0 ? std::fabs(a[r * 4 + c]) / s[c] : 0;
      if (v > best_v) best_v = v, best = r;
    }
    if (best < 0) fail(Status::invalid_argument, "affine has a degenerate voxel axis");
    taken[best] = true;
    code[c] = a[best * 4 + c] < 0 ? neg[best] : pos[best];
  }
  return code;
}

void validate_volume(const Volume& v) {
  require(v.data.defined() && v.data.rank() == 3 && v.data.dtype() == DType::f32 && v.data.is_contiguous(),
          Status::invalid_argument, "volume data must be a contiguous float32 tensor [nz, ny, nx]");
  require(v.data.numel() > 0, Status::invalid_argument, "volume is empty");
  for (double x : v.affine) require(std::isfinite(x), Status::invalid_argument, "volume affine is not finite");
  require(voxel_volume_mm3(v.affine) > 0, Status::invalid_argument, "volume affine is singular");
}

void compose_index_transform(Volume& v, const Mat4& t) {
  v.affine = mat4_mul(v.affine, t);
  v.header.qform = mat4_mul(v.header.qform, t);
  v.header.sform = mat4_mul(v.header.sform, t);
}

Volume volume_like(const Volume& like, const Tensor& data) {
  if (data.numel() != like.data.numel())
    fail(Status::shape_mismatch, "values " + data.shape().str() + " do not fit the grid " + like.data.shape().str());
  Volume v;
  v.affine = like.affine;
  v.header = like.header;
  v.header.source_datatype = 16;  // float32: new values, not the scan's
  v.header.scl_slope = 0;
  v.header.scl_inter = 0;
  v.data = data.clone().reshape({like.nz(), like.ny(), like.nx()});
  return v;
}

}  // namespace vx
