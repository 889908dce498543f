#include "preprocess/n4.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <string>

#include "preprocess/bspline_fit.h"

namespace vx::preprocess {
namespace {

using cplx = std::complex<double>;

// Below this many voxels a pass runs on one thread (fork/join would cost more than it saves).
constexpr int64_t kParallelMin = int64_t{1} << 17;

// In-place radix-2 FFT, unnormalised both ways (as vnl_fft_1d, which ITK uses). sign = -1
// forward, +1 backward. Only real, even kernels are transformed here, so the sign convention
// cannot change the result; the missing 1/N cancels in the ratio E = num / den below.
void fft(std::vector<cplx>& a, int sign) {
  const size_t n = a.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const double ang = sign * 2.0 * M_PI / static_cast<double>(len);
    const cplx wl(std::cos(ang), std::sin(ang));
    for (size_t i = 0; i < n; i += len) {
      cplx w(1.0, 0.0);
      for (size_t k = 0; k < len / 2; ++k) {
        const cplx u = a[i + k], v = a[i + k + len / 2] * w;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
        w *= wl;
      }
    }
  }
}

// ITK's SharpenImage once the histogram is built: returns E, the expected (sharpened) log
// intensity at each bin centre, from the histogram H with bin width `slope` starting at `lo`.
std::vector<double> sharpen_lut(const std::vector<double>& hist, double lo, double slope, const N4Options& o) {
  const int bins = static_cast<int>(hist.size());
  const double exponent = std::ceil(std::log(static_cast<double>(bins)) / std::log(2.0)) + 1.0;
  const size_t padded = static_cast<size_t>(std::pow(2.0, exponent) + 0.5);
  const size_t offset = static_cast<size_t>(0.5 * static_cast<double>(padded - static_cast<size_t>(bins)));

  std::vector<cplx> vf(padded, cplx(0.0, 0.0));
  for (int n = 0; n < bins; ++n) vf[static_cast<size_t>(n) + offset] = hist[static_cast<size_t>(n)];
  fft(vf, -1);

  const double scaled_fwhm = o.bias_field_fwhm / slope;
  const double exp_factor = 4.0 * std::log(2.0) / (scaled_fwhm * scaled_fwhm);
  const double scale_factor = 2.0 * std::sqrt(std::log(2.0) / M_PI) / scaled_fwhm;
  std::vector<cplx> ff(padded, cplx(0.0, 0.0));
  ff[0] = scale_factor;
  const size_t half = padded / 2;
  for (size_t n = 1; n <= half; ++n) {
    const double dn = static_cast<double>(n);
    ff[n] = ff[padded - n] = scale_factor * std::exp(-dn * dn * exp_factor);
  }
  if (padded % 2 == 0) {
    const double dp = static_cast<double>(padded);
    ff[half] = scale_factor * std::exp(0.25 * -dp * dp * exp_factor);
  }
  fft(ff, -1);

  // Wiener filter G = conj(F) / (|F|^2 + noise); U = V * Re(G), clipped at 0.
  std::vector<cplx> u(padded);
  for (size_t n = 0; n < padded; ++n) {
    const cplx c = std::conj(ff[n]);
    const cplx g = c / (c * ff[n] + o.wiener_filter_noise);
    u[n] = vf[n] * g.real();
  }
  fft(u, +1);
  for (auto& x : u) x = cplx(std::max(x.real(), 0.0), 0.0);

  std::vector<cplx> num(padded), den(u);
  for (size_t n = 0; n < padded; ++n) {
    num[n] = cplx((lo + (static_cast<double>(n) - static_cast<double>(offset)) * slope) * u[n].real(), 0.0);
  }
  fft(num, -1);
  fft(den, -1);
  for (size_t n = 0; n < padded; ++n) {
    num[n] *= ff[n];
    den[n] *= ff[n];
  }
  fft(num, +1);
  fft(den, +1);
  std::vector<double> e(static_cast<size_t>(bins));
  for (int n = 0; n < bins; ++n) {
    const size_t k = static_cast<size_t>(n) + offset;
    e[static_cast<size_t>(n)] = den[k].real() != 0.0 ? num[k].real() / den[k].real() : 0.0;
  }
  return e;
}

// Sets the calling thread's OpenMP team size for the duration of one call.
class ThreadScope {
 public:
  explicit ThreadScope(int n) : prev_(omp_get_max_threads()) {
    if (n > 0) omp_set_num_threads(n);
  }
  ~ThreadScope() { omp_set_num_threads(prev_); }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int prev_;
};

void validate(const float* src, const std::array<int64_t, 3>& dims, const std::array<double, 3>& spacing,
              const N4Options& o) {
  require(src != nullptr, Status::invalid_argument, "n4: source volume is null");
  for (int a = 0; a < 3; ++a) {
    require(dims[a] >= 2, Status::invalid_argument, "n4: every axis of the volume needs at least 2 voxels");
    require(std::isfinite(spacing[a]) && spacing[a] > 0.0, Status::invalid_argument,
            "n4: spacing must be finite and > 0");
    require(o.control_points[a] >= o.spline_order + 1, Status::invalid_argument,
            "n4: control points per axis must be at least spline order + 1");
  }
  require(o.spline_order == 3, Status::unsupported, "n4: only spline order 3 (cubic) is implemented");
  require(o.histogram_bins >= 2 && o.histogram_bins <= (1 << 20), Status::invalid_argument,
          "n4: histogram bins must be in [2, 2^20]");
  require(std::isfinite(o.bias_field_fwhm) && o.bias_field_fwhm > 0.0, Status::invalid_argument,
          "n4: bias field FWHM must be finite and > 0");
  require(std::isfinite(o.wiener_filter_noise) && o.wiener_filter_noise > 0.0, Status::invalid_argument,
          "n4: Wiener filter noise must be finite and > 0");
  require(std::isfinite(o.convergence_threshold) && o.convergence_threshold >= 0.0, Status::invalid_argument,
          "n4: convergence threshold must be finite and >= 0");
  require(!o.iterations.empty() && o.iterations.size() <= 10, Status::invalid_argument,
          "n4: between 1 and 10 fitting levels (one iteration count each)");
  for (int it : o.iterations) require(it >= 0, Status::invalid_argument, "n4: iteration counts must be >= 0");
  require(o.shrink_factor >= 1, Status::invalid_argument, "n4: shrink factor must be >= 1");
  require(o.threads >= 0, Status::invalid_argument, "n4: threads must be >= 0");
  for (int a = 0; a < 3; ++a) {
    require(dims[a] / o.shrink_factor >= 2, Status::invalid_argument,
            "n4: shrink factor leaves an axis with fewer than 2 voxels");
  }
}

}  // namespace

N4Result n4_bias_correct(const float* src, const std::array<int64_t, 3>& dims, const std::array<double, 3>& spacing,
                         const uint8_t* mask, const N4Options& o) {
  validate(src, dims, spacing, o);
  const ThreadScope thread_scope(o.threads);
  const int64_t total = dims[0] * dims[1] * dims[2];
  bool finite = true;
#pragma omp parallel for reduction(&& : finite) schedule(static) if (total >= kParallelMin)
  for (int64_t i = 0; i < total; ++i) finite = finite && std::isfinite(src[i]);
  require(finite, Status::invalid_argument, "n4: input volume contains NaN or infinity");

  // Working grid: the volume, or its s x s x s block means over included voxels.
  const int s = o.shrink_factor;
  const std::array<int64_t, 3> wd{dims[0] / s, dims[1] / s, dims[2] / s};
  const int64_t wn = wd[0] * wd[1] * wd[2];
  std::vector<uint8_t> inc(static_cast<size_t>(wn), 0);
  std::vector<float> log_input(static_cast<size_t>(wn), 0.0f);
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
  for (int64_t z = 0; z < wd[0]; ++z) {
    for (int64_t y = 0; y < wd[1]; ++y) {
      for (int64_t x = 0; x < wd[2]; ++x) {
        double sum = 0.0;
        int count = 0;
        for (int dz = 0; dz < s; ++dz) {
          for (int dy = 0; dy < s; ++dy) {
            for (int dx = 0; dx < s; ++dx) {
              const int64_t i = ((z * s + dz) * dims[1] + (y * s + dy)) * dims[2] + (x * s + dx);
              if (src[i] > 0.0f && (!mask || mask[i])) {
                sum += src[i];
                ++count;
              }
            }
          }
        }
        const int64_t w = (z * wd[1] + y) * wd[2] + x;
        if (count > 0) {
          inc[static_cast<size_t>(w)] = 1;
          log_input[static_cast<size_t>(w)] = static_cast<float>(std::log(sum / count));
        }
      }
    }
  }
  int64_t included = 0;
  float lmin = std::numeric_limits<float>::max(), lmax = std::numeric_limits<float>::lowest();
#pragma omp parallel for reduction(+ : included) reduction(min : lmin) reduction(max : lmax) schedule(static) if (wn >= kParallelMin)
  for (int64_t i = 0; i < wn; ++i) {
    if (inc[static_cast<size_t>(i)]) {
      ++included;
      lmin = std::min(lmin, log_input[static_cast<size_t>(i)]);
      lmax = std::max(lmax, log_input[static_cast<size_t>(i)]);
    }
  }
  require(included > 0, Status::invalid_argument,
          mask ? "n4: the mask selects no voxel with positive intensity"
               : "n4: the volume has no voxel with positive intensity");

  N4Result res;
  res.corrected.assign(src, src + total);
  res.bias_field.assign(static_cast<size_t>(total), 1.0f);
  if (!(lmax > lmin)) {  // constant included voxels: nothing to correct
    res.degenerate = true;
    res.iterations.assign(o.iterations.size(), 0);
    res.convergence.assign(o.iterations.size(), 0.0);
    return res;
  }

  const int levels = static_cast<int>(o.iterations.size());
  const int bins = o.histogram_bins;
  BSplineLattice lattice = BSplineLattice::zeros(
      {int64_t{o.control_points[0]}, int64_t{o.control_points[1]}, int64_t{o.control_points[2]}});
  std::vector<float> log_field(static_cast<size_t>(wn), 0.0f), new_field(static_cast<size_t>(wn));
  std::vector<float> residual(static_cast<size_t>(wn), 0.0f);
  const int nthreads = omp_get_max_threads();
  std::vector<double> thread_hist(static_cast<size_t>(nthreads) * static_cast<size_t>(bins));
  BSplineLattice phi = lattice;

  for (int level = 0; level < levels; ++level) {
    const BSplineFitPlan plan = make_fit_plan(wd, lattice.n, inc.data());
    phi = BSplineLattice::zeros(lattice.n);
    double conv = std::numeric_limits<double>::max();
    int it = 0;
    while (it < o.iterations[static_cast<size_t>(level)] && conv > o.convergence_threshold) {
      ++it;
      // Histogram range of the current log image (log input - log field) over included voxels.
      float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
#pragma omp parallel for reduction(min : lo) reduction(max : hi) schedule(static) if (wn >= kParallelMin)
      for (int64_t i = 0; i < wn; ++i) {
        if (inc[static_cast<size_t>(i)]) {
          const float v = log_input[static_cast<size_t>(i)] - log_field[static_cast<size_t>(i)];
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
      }
      if (!(hi > lo)) break;  // the field flattened everything: nothing left to sharpen
      const double dlo = lo;
      const double slope = (static_cast<double>(hi) - dlo) / static_cast<double>(bins - 1);
      std::fill(thread_hist.begin(), thread_hist.end(), 0.0);
#pragma omp parallel num_threads(nthreads) if (wn >= kParallelMin)
      {
        double* h = thread_hist.data() + static_cast<size_t>(omp_get_thread_num()) * static_cast<size_t>(bins);
#pragma omp for schedule(static)
        for (int64_t i = 0; i < wn; ++i) {
          if (!inc[static_cast<size_t>(i)]) continue;
          const double c = (log_input[static_cast<size_t>(i)] - log_field[static_cast<size_t>(i)] - dlo) / slope;
          const int idx = static_cast<int>(std::floor(c));
          const double off = c - idx;
          if (off == 0.0) {
            h[std::min(std::max(idx, 0), bins - 1)] += 1.0;
          } else if (idx >= 0 && idx < bins - 1) {
            h[idx] += 1.0 - off;
            h[idx + 1] += off;
          }
        }
      }
      std::vector<double> hist(static_cast<size_t>(bins), 0.0);
      for (int t = 0; t < nthreads; ++t) {
        for (int b = 0; b < bins; ++b) hist[static_cast<size_t>(b)] += thread_hist[static_cast<size_t>(t * bins + b)];
      }
      const std::vector<double> e = sharpen_lut(hist, dlo, slope, o);

      // Residual = log image - sharpened log image (0 outside the fit).
#pragma omp parallel for schedule(static) if (wn >= kParallelMin)
      for (int64_t i = 0; i < wn; ++i) {
        if (!inc[static_cast<size_t>(i)]) {
          residual[static_cast<size_t>(i)] = 0.0f;
          continue;
        }
        const float v = log_input[static_cast<size_t>(i)] - log_field[static_cast<size_t>(i)];
        const double c = (v - dlo) / slope;
        const int idx = std::max(0, static_cast<int>(std::floor(c)));
        const double sharp = idx < bins - 1 ? e[static_cast<size_t>(idx)] +
                                                  (e[static_cast<size_t>(idx) + 1] - e[static_cast<size_t>(idx)]) *
                                                      (c - idx)
                                            : e.back();
        residual[static_cast<size_t>(i)] = static_cast<float>(v - sharp);
      }

      bspline_fit(plan, residual.data(), phi);
      for (size_t k = 0; k < lattice.coef.size(); ++k) lattice.coef[k] += phi.coef[k];
      bspline_evaluate(lattice, plan.basis, new_field.data());

      // Convergence: coefficient of variation of exp(new - old) over included voxels, with
      // d = expm1(.) accumulated for accuracy (mean exp = 1 + mean d).
      double sd = 0.0, sdd = 0.0;
#pragma omp parallel for reduction(+ : sd, sdd) schedule(static) if (wn >= kParallelMin)
      for (int64_t i = 0; i < wn; ++i) {
        if (!inc[static_cast<size_t>(i)]) continue;
        const double d = std::expm1(static_cast<double>(new_field[static_cast<size_t>(i)]) -
                                    static_cast<double>(log_field[static_cast<size_t>(i)]));
        sd += d;
        sdd += d * d;
      }
      const double n = static_cast<double>(included);
      const double mean_d = sd / n;
      const double var = n > 1.0 ? std::max(0.0, (sdd - sd * mean_d) / (n - 1.0)) : 0.0;
      conv = std::sqrt(var) / (1.0 + mean_d);
      log_field.swap(new_field);
    }
    res.iterations.push_back(it);
    res.convergence.push_back(conv);
    if (level + 1 < levels) lattice = bspline_refine(lattice);
  }

  // The field at full resolution: the working grid itself, or the lattice evaluated at the
  // full-resolution voxel centres.
  std::vector<float> full;
  const std::vector<float>* field = &log_field;
  if (s > 1) {
    full.resize(static_cast<size_t>(total));
    std::array<AxisBasis, 3> basis;
    for (int a = 0; a < 3; ++a) basis[a] = make_axis_basis_shrunk(dims[a], wd[a], s, lattice.n[a]);
    bspline_evaluate(lattice, basis, full.data());
    field = &full;
  }
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
  for (int64_t i = 0; i < total; ++i) {
    const float f = std::exp((*field)[static_cast<size_t>(i)]);
    res.bias_field[static_cast<size_t>(i)] = f;
    res.corrected[static_cast<size_t>(i)] = src[i] > 0.0f ? src[i] / f : src[i];
  }
  return res;
}

std::array<Tensor, 2> n4_bias_correct(const Tensor& src, const std::array<double, 3>& spacing, const Tensor& mask,
                                      const N4Options& options) {
  require(src.defined() && src.dtype() == DType::f32, Status::invalid_argument, "n4: source must be an f32 tensor");
  require(src.rank() == 3 || (src.rank() == 5 && src.dim(0) == 1 && src.dim(1) == 1), Status::shape_mismatch,
          "n4: source must be [nz, ny, nx] or [1, 1, nz, ny, nx]");
  const int r = src.rank();
  const std::array<int64_t, 3> dims{src.dim(r - 3), src.dim(r - 2), src.dim(r - 1)};
  const Tensor s = src.is_contiguous() ? src : src.clone();
  std::vector<uint8_t> m;
  if (mask.defined()) {
    require(mask.numel() == src.numel(), Status::shape_mismatch, "n4: mask must have as many voxels as the source");
    require(mask.dtype() == DType::u8 || mask.dtype() == DType::f32, Status::invalid_argument,
            "n4: mask must be u8 or f32");
    const Tensor mc = mask.is_contiguous() ? mask : mask.clone();
    m.resize(static_cast<size_t>(mc.numel()));
    if (mc.dtype() == DType::u8) {
      const uint8_t* p = static_cast<const uint8_t*>(mc.raw());
      for (size_t i = 0; i < m.size(); ++i) m[i] = p[i] != 0;
    } else {
      const float* p = mc.f32();
      for (size_t i = 0; i < m.size(); ++i) m[i] = p[i] != 0.0f;
    }
  }
  N4Result res = n4_bias_correct(s.f32(), dims, spacing, m.empty() ? nullptr : m.data(), options);
  Tensor out = Tensor::empty(src.shape());
  Tensor field = Tensor::empty(src.shape());
  std::copy(res.corrected.begin(), res.corrected.end(), out.f32());
  std::copy(res.bias_field.begin(), res.bias_field.end(), field.f32());
  return {out, field};
}

std::vector<uint8_t> otsu_mask(const float* src, int64_t count, int bins) {
  require(src != nullptr && count > 0, Status::invalid_argument, "otsu_mask: empty input");
  require(bins >= 2, Status::invalid_argument, "otsu_mask: at least 2 bins");
  float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
  for (int64_t i = 0; i < count; ++i) {
    if (std::isfinite(src[i])) {
      lo = std::min(lo, src[i]);
      hi = std::max(hi, src[i]);
    }
  }
  std::vector<uint8_t> out(static_cast<size_t>(count), 0);
  if (!(hi > lo)) return out;
  std::vector<double> h(static_cast<size_t>(bins), 0.0);
  const double width = (static_cast<double>(hi) - lo) / bins;
  for (int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(src[i])) continue;
    const int b = std::min(bins - 1, static_cast<int>((src[i] - lo) / width));
    h[static_cast<size_t>(b)] += 1.0;
  }
  double total = 0.0, total_mean = 0.0;
  for (int b = 0; b < bins; ++b) {
    total += h[static_cast<size_t>(b)];
    total_mean += b * h[static_cast<size_t>(b)];
  }
  // Maximise the between-class variance over the split after bin t.
  double w0 = 0.0, m0 = 0.0, best = -1.0;
  int best_t = 0;
  for (int t = 0; t < bins - 1; ++t) {
    w0 += h[static_cast<size_t>(t)];
    m0 += t * h[static_cast<size_t>(t)];
    const double w1 = total - w0;
    if (w0 <= 0.0 || w1 <= 0.0) continue;
    const double mu0 = m0 / w0, mu1 = (total_mean - m0) / w1;
    const double between = w0 * w1 * (mu0 - mu1) * (mu0 - mu1);
    if (between > best) {
      best = between;
      best_t = t;
    }
  }
  const double threshold = lo + (best_t + 1) * width;
  for (int64_t i = 0; i < count; ++i) out[static_cast<size_t>(i)] = std::isfinite(src[i]) && src[i] > threshold;
  return out;
}

}  // namespace vx::preprocess
