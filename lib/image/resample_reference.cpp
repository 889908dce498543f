#include <cmath>

#include "image/geometry.h"

namespace vx {

Volume resample_to_reference(const Volume& moving, const Volume& reference, Interp interp, float fill) {
  validate_volume(moving);
  validate_volume(reference);
  // index in moving = M * index in reference
  const Mat4 m = mat4_mul(mat4_inverse(moving.affine), reference.affine);
  Volume out;
  out.affine = reference.affine;
  out.header = reference.header;
  out.header.source_datatype = 16;
  out.data = Tensor::empty(reference.data.shape());
  const int64_t nx = moving.nx(), ny = moving.ny(), nz = moving.nz();
  const int64_t ox = reference.nx(), oy = reference.ny(), oz = reference.nz();
  const float* src = moving.voxels();
  float* dst = out.voxels();
  auto at = [&](int64_t x, int64_t y, int64_t z) { return src[(z * ny + y) * nx + x]; };
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < oz; ++k)
    for (int64_t j = 0; j < oy; ++j)
      for (int64_t i = 0; i < ox; ++i) {
        const double x = m[0] * i + m[1] * j + m[2] * k + m[3];
        const double y = m[4] * i + m[5] * j + m[6] * k + m[7];
        const double z = m[8] * i + m[9] * j + m[10] * k + m[11];
        float v = fill;
        if (interp == Interp::nearest) {
          const int64_t xi = std::lround(x), yi = std::lround(y), zi = std::lround(z);
          if (xi >= 0 && yi >= 0 && zi >= 0 && xi < nx && yi < ny && zi < nz) v = at(xi, yi, zi);
        } else {
          const double eps = 1e-6;
          if (x >= -eps && y >= -eps && z >= -eps && x <= nx - 1 + eps && y <= ny - 1 + eps && z <= nz - 1 + eps) {
            const double cx = std::min(std::max(x, 0.0), double(nx - 1));
            const double cy = std::min(std::max(y, 0.0), double(ny - 1));
            const double cz = std::min(std::max(z, 0.0), double(nz - 1));
            const int64_t x0 = int64_t(cx), y0 = int64_t(cy), z0 = int64_t(cz);
            const int64_t x1 = std::min(x0 + 1, nx - 1), y1 = std::min(y0 + 1, ny - 1), z1 = std::min(z0 + 1, nz - 1);
            const double fx = cx - x0, fy = cy - y0, fz = cz - z0;
            auto lerp = [](double a, double b, double t) { return a + (b - a) * t; };
            const double c00 = lerp(at(x0, y0, z0), at(x1, y0, z0), fx), c10 = lerp(at(x0, y1, z0), at(x1, y1, z0), fx);
            const double c01 = lerp(at(x0, y0, z1), at(x1, y0, z1), fx), c11 = lerp(at(x0, y1, z1), at(x1, y1, z1), fx);
            v = static_cast<float>(lerp(lerp(c00, c10, fy), lerp(c01, c11, fy), fz));
          }
        }
        dst[(k * oy + j) * ox + i] = v;
      }
  return out;
}

}  // namespace vx
