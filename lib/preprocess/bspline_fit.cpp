#include "preprocess/bspline_fit.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace vx::preprocess {
namespace {

constexpr double kEpsilon = 1e-3;  // ITK's m_BSplineEpsilon
// Below this many voxels a pass runs on one thread: an OpenMP fork/join costs more than it
// saves, and far more on a loaded machine.
constexpr int64_t kParallelMin = int64_t{1} << 17;

// Cubic B-spline weights of the four control points first..first+3 touching parameter u
// (ITK's BSplineKernelFunction<3> evaluated at u - k + 1 for k = floor(u) .. floor(u) + 3).
void cubic_weights(double u, int64_t* first, double* w) {
  const double fl = std::floor(u);
  const double t = u - fl;
  const double s = 1.0 - t;
  *first = static_cast<int64_t>(fl);
  w[0] = s * s * s / 6.0;
  w[1] = (4.0 - 6.0 * t * t + 3.0 * t * t * t) / 6.0;
  w[2] = (4.0 - 6.0 * s * s + 3.0 * s * s * s) / 6.0;
  w[3] = t * t * t / 6.0;
}

// ITK's handling of the ends of the parametric domain [0, spans).
double clamp_param(double u, double spans, double eps) {
  if (std::abs(u - spans) <= eps || u > spans) u = spans - eps;
  if (u < 0.0) u = 0.0;
  return u;
}

void check_control_points(int64_t n) {
  require(n >= 4, Status::invalid_argument, "bspline: a cubic lattice needs at least 4 control points per axis");
}

}  // namespace

BSplineLattice BSplineLattice::zeros(const std::array<int64_t, 3>& n) {
  BSplineLattice l;
  l.n = n;
  l.coef.assign(static_cast<size_t>(n[0] * n[1] * n[2]), 0.0);
  return l;
}

AxisBasis make_axis_basis(int64_t length, int64_t control_points) {
  check_control_points(control_points);
  require(length >= 2, Status::invalid_argument, "bspline: every grid axis needs at least 2 samples");
  AxisBasis b;
  b.control_points = control_points;
  b.first.resize(static_cast<size_t>(length));
  b.w.resize(static_cast<size_t>(4 * length));
  const double spans = static_cast<double>(control_points - 3);
  const double r = spans / static_cast<double>(length - 1);
  const double eps = r * kEpsilon;
  for (int64_t i = 0; i < length; ++i) {
    const double u = clamp_param(static_cast<double>(i) * r, spans, eps);
    cubic_weights(u, &b.first[static_cast<size_t>(i)], &b.w[static_cast<size_t>(4 * i)]);
  }
  return b;
}

AxisBasis make_axis_basis_shrunk(int64_t length, int64_t shrunk_length, int shrink, int64_t control_points) {
  check_control_points(control_points);
  require(shrunk_length >= 2 && shrink >= 1, Status::invalid_argument,
          "bspline: the shrunk grid needs at least 2 samples per axis");
  AxisBasis b;
  b.control_points = control_points;
  b.first.resize(static_cast<size_t>(length));
  b.w.resize(static_cast<size_t>(4 * length));
  const double spans = static_cast<double>(control_points - 3);
  const double r = spans / static_cast<double>(shrunk_length - 1);
  const double eps = r * kEpsilon;
  const double centre = 0.5 * static_cast<double>(shrink - 1);
  for (int64_t i = 0; i < length; ++i) {
    const double j = (static_cast<double>(i) - centre) / static_cast<double>(shrink);
    const double u = clamp_param(j * r, spans, eps);
    cubic_weights(u, &b.first[static_cast<size_t>(i)], &b.w[static_cast<size_t>(4 * i)]);
  }
  return b;
}

namespace {

// dst[kz][ky][kx] = sum_{z,y,x} src[z][y][x] * wz(z,kz) * wy(y,ky) * wx(x,kx), the per-axis
// weights given as 4 taps per sample starting at basis.first. Three passes, x first.
template <typename T>
void contract(const std::array<int64_t, 3>& dims, const std::array<AxisBasis, 3>& basis,
              const std::array<const std::vector<double>*, 3>& w, const T* src, std::vector<double>& dst) {
  const int64_t nz = dims[0], ny = dims[1], nx = dims[2];
  const int64_t cz = basis[0].control_points, cy = basis[1].control_points, cx = basis[2].control_points;
  const int64_t* fx = basis[2].first.data();
  const double* wx = w[2]->data();
  std::vector<double> t1(static_cast<size_t>(nz * ny * cx), 0.0);
#pragma omp parallel for schedule(static) if (nz * ny * nx >= kParallelMin)
  for (int64_t row = 0; row < nz * ny; ++row) {
    const T* s = src + row * nx;
    double* d = t1.data() + row * cx;
    for (int64_t x = 0; x < nx; ++x) {
      const double v = static_cast<double>(s[x]);
      if (v == 0.0) continue;
      const double* ww = wx + 4 * x;
      double* dd = d + fx[x];
      dd[0] += v * ww[0];
      dd[1] += v * ww[1];
      dd[2] += v * ww[2];
      dd[3] += v * ww[3];
    }
  }
  const int64_t* fy = basis[1].first.data();
  const double* wy = w[1]->data();
  std::vector<double> t2(static_cast<size_t>(nz * cy * cx), 0.0);
#pragma omp parallel for schedule(static) if (nz * ny * cx >= kParallelMin)
  for (int64_t z = 0; z < nz; ++z) {
    double* d = t2.data() + z * cy * cx;
    for (int64_t y = 0; y < ny; ++y) {
      const double* s = t1.data() + (z * ny + y) * cx;
      for (int t = 0; t < 4; ++t) {
        const double ww = wy[4 * y + t];
        double* dd = d + (fy[y] + t) * cx;
        for (int64_t kx = 0; kx < cx; ++kx) dd[kx] += ww * s[kx];
      }
    }
  }
  const int64_t* fz = basis[0].first.data();
  const double* wz = w[0]->data();
  dst.assign(static_cast<size_t>(cz * cy * cx), 0.0);
  const int64_t plane = cy * cx;
  for (int64_t z = 0; z < nz; ++z) {
    const double* s = t2.data() + z * plane;
    for (int t = 0; t < 4; ++t) {
      const double ww = wz[4 * z + t];
      double* dd = dst.data() + (fz[z] + t) * plane;
      for (int64_t k = 0; k < plane; ++k) dd[k] += ww * s[k];
    }
  }
}

}  // namespace

BSplineFitPlan make_fit_plan(const std::array<int64_t, 3>& dims, const std::array<int64_t, 3>& control_points,
                             const uint8_t* include) {
  BSplineFitPlan p;
  p.dims = dims;
  for (int a = 0; a < 3; ++a) {
    p.basis[a] = make_axis_basis(dims[a], control_points[a]);
    const std::vector<double>& w = p.basis[a].w;
    p.delta_w[a].resize(w.size());
    p.omega_w[a].resize(w.size());
    for (size_t i = 0; i < w.size(); i += 4) {
      const double s2 = w[i] * w[i] + w[i + 1] * w[i + 1] + w[i + 2] * w[i + 2] + w[i + 3] * w[i + 3];
      for (size_t t = 0; t < 4; ++t) {
        p.delta_w[a][i + t] = w[i + t] * w[i + t] * w[i + t] / s2;
        p.omega_w[a][i + t] = w[i + t] * w[i + t];
      }
    }
  }
  const std::array<const std::vector<double>*, 3> ow{&p.omega_w[0], &p.omega_w[1], &p.omega_w[2]};
  if (include) {
    contract(dims, p.basis, ow, include, p.omega);
  } else {
    const std::vector<uint8_t> all(static_cast<size_t>(dims[0] * dims[1] * dims[2]), 1);
    contract(dims, p.basis, ow, all.data(), p.omega);
  }
  return p;
}

void bspline_fit(const BSplineFitPlan& plan, const float* values, BSplineLattice& dst) {
  const std::array<int64_t, 3> n{plan.basis[0].control_points, plan.basis[1].control_points,
                                 plan.basis[2].control_points};
  require(dst.n == n && dst.coef.size() == plan.omega.size(), Status::shape_mismatch,
          "bspline_fit: lattice size differs from the fit plan");
  const std::array<const std::vector<double>*, 3> dw{&plan.delta_w[0], &plan.delta_w[1], &plan.delta_w[2]};
  std::vector<double> delta;
  contract(plan.dims, plan.basis, dw, values, delta);
  for (size_t k = 0; k < delta.size(); ++k) {
    // ITK: phi = delta / omega unless omega is (almost) zero; NaN/inf become 0.
    const double o = plan.omega[k];
    const double v = (o > 1e-300) ? delta[k] / o : 0.0;
    dst.coef[k] = std::isfinite(v) ? v : 0.0;
  }
}

void bspline_evaluate(const BSplineLattice& lattice, const std::array<AxisBasis, 3>& basis, float* dst) {
  for (int a = 0; a < 3; ++a) {
    require(basis[a].control_points == lattice.n[a], Status::shape_mismatch,
            "bspline_evaluate: basis and lattice control points differ");
  }
  const int64_t nz = static_cast<int64_t>(basis[0].first.size());
  const int64_t ny = static_cast<int64_t>(basis[1].first.size());
  const int64_t nx = static_cast<int64_t>(basis[2].first.size());
  const int64_t cy = lattice.n[1], cx = lattice.n[2];
  const int64_t plane = cy * cx;
#pragma omp parallel if (nz * ny * nx >= kParallelMin)
  {
    std::vector<double> l2(static_cast<size_t>(plane));
    std::vector<double> l1(static_cast<size_t>(cx));
#pragma omp for schedule(static)
    for (int64_t z = 0; z < nz; ++z) {
      std::fill(l2.begin(), l2.end(), 0.0);
      for (int t = 0; t < 4; ++t) {
        const double w = basis[0].w[static_cast<size_t>(4 * z + t)];
        const double* s = lattice.coef.data() + (basis[0].first[static_cast<size_t>(z)] + t) * plane;
        for (int64_t k = 0; k < plane; ++k) l2[static_cast<size_t>(k)] += w * s[k];
      }
      for (int64_t y = 0; y < ny; ++y) {
        std::fill(l1.begin(), l1.end(), 0.0);
        for (int t = 0; t < 4; ++t) {
          const double w = basis[1].w[static_cast<size_t>(4 * y + t)];
          const double* s = l2.data() + (basis[1].first[static_cast<size_t>(y)] + t) * cx;
          for (int64_t k = 0; k < cx; ++k) l1[static_cast<size_t>(k)] += w * s[k];
        }
        float* d = dst + (z * ny + y) * nx;
        const int64_t* fx = basis[2].first.data();
        const double* wx = basis[2].w.data();
        for (int64_t x = 0; x < nx; ++x) {
          const double* s = l1.data() + fx[x];
          const double* w = wx + 4 * x;
          d[x] = static_cast<float>(w[0] * s[0] + w[1] * s[1] + w[2] * s[2] + w[3] * s[3]);
        }
      }
    }
  }
}

namespace {

// Refines one axis of a [outer][n][inner] array to [outer][2n - 3][inner] with the cubic
// subdivision masks ITK derives (m_RefinedLatticeCoefficients): a new point halfway between two
// old knots gets (p_i + p_{i+1}) / 2, one on an old knot gets (p_i + 6 p_{i+1} + p_{i+2}) / 8.
std::vector<double> refine_axis(const std::vector<double>& src, int64_t outer, int64_t n, int64_t inner) {
  const int64_t m = 2 * n - 3;
  std::vector<double> dst(static_cast<size_t>(outer * m * inner), 0.0);
  for (int64_t o = 0; o < outer; ++o) {
    const double* s = src.data() + o * n * inner;
    double* d = dst.data() + o * m * inner;
    for (int64_t j = 0; j < m; ++j) {
      const int64_t i = j / 2;
      for (int64_t k = 0; k < inner; ++k) {
        const double p0 = s[i * inner + k];
        const double p1 = (i + 1 < n) ? s[(i + 1) * inner + k] : 0.0;
        if (j % 2 == 0) {
          d[j * inner + k] = 0.5 * (p0 + p1);
        } else {
          const double p2 = (i + 2 < n) ? s[(i + 2) * inner + k] : 0.0;
          d[j * inner + k] = 0.125 * (p0 + 6.0 * p1 + p2);
        }
      }
    }
  }
  return dst;
}

}  // namespace

BSplineLattice bspline_refine(const BSplineLattice& src) {
  for (int a = 0; a < 3; ++a) check_control_points(src.n[a]);
  const int64_t nz = src.n[0], ny = src.n[1], nx = src.n[2];
  BSplineLattice dst;
  dst.n = {2 * nz - 3, 2 * ny - 3, 2 * nx - 3};
  std::vector<double> a = refine_axis(src.coef, nz * ny, nx, 1);
  std::vector<double> b = refine_axis(a, nz, ny, dst.n[2]);
  dst.coef = refine_axis(b, 1, nz, dst.n[1] * dst.n[2]);
  return dst;
}

}  // namespace vx::preprocess
