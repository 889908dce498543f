#include "nnunet/resample.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace vx::nnunet {

std::vector<int64_t> compute_new_shape(const std::vector<int64_t>& old_shape, const std::vector<double>& old_spacing,
                                       const std::vector<double>& new_spacing) {
  if (old_shape.size() != old_spacing.size() || old_shape.size() != new_spacing.size())
    throw Error(Status::invalid_argument, "nnU-Net resampling: shape and spacing ranks differ");
  std::vector<int64_t> s;
  for (size_t d = 0; d < old_shape.size(); ++d) {
    if (!(new_spacing[d] > 0)) throw Error(Status::invalid_argument, "nnU-Net resampling: target spacing must be positive");
    s.push_back(int64_t(std::nearbyint(old_spacing[d] / new_spacing[d] * double(old_shape[d]))));
    if (s.back() < 1) throw Error(Status::invalid_argument, "nnU-Net resampling: the new shape has an empty axis");
  }
  return s;
}

namespace {

constexpr int kPrepad = 12;  // scipy's _prepad_for_spline_filter for mode 'nearest'

int64_t mirror_index(int64_t idx, int64_t len) {  // scipy's whole-sample mirror for taps beyond the edge
  if (len <= 1) return 0;
  const int64_t s2 = 2 * len - 2;
  if (idx < 0) {
    idx = s2 * (-idx / s2) + idx;
    idx = idx <= 1 - len ? idx + s2 : -idx;
  } else if (idx >= len) {
    idx -= s2 * (idx / s2);
    if (idx >= len) idx = s2 - idx;
  }
  return idx;
}

// The B-spline interpolation weights at x for the taps start..start+order.
void spline_weights(double x, int order, double* w) {
  x -= std::floor((order & 1) ? x : x + 0.5);
  const double y = x, z = 1.0 - x;
  switch (order) {
    case 0: break;
    case 1: w[0] = 1.0 - x; break;
    case 2: {
      w[1] = 0.75 - x * x;
      const double t = 0.5 - x;
      w[0] = 0.5 * t * t;
      break;
    }
    case 3:
      w[1] = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0;
      w[2] = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0;
      w[0] = z * z * z / 6.0;
      break;
    default: throw Error(Status::unsupported, "nnU-Net resampling: spline order " + std::to_string(order));
  }
  w[order] = 1.0;
  for (int i = 0; i < order; ++i) w[order] -= w[i];
}

// The recursive B-spline prefilter on one line, mirror boundaries (Unser et al. 1991).
void filter_line(double* c, int64_t n, int order) {
  if (n <= 1 || order < 2) return;
  const double z = order == 2 ? -0.171572875253809902396622551580603843 : -0.267949192431122706472553658494127633;
  const double gain = (1.0 - z) * (1.0 - 1.0 / z);
  for (int64_t i = 0; i < n; ++i) c[i] *= gain;
  const double zn1 = std::pow(z, double(n - 1));
  double c0 = c[0] + zn1 * c[n - 1], zi = z;
  for (int64_t i = 1; i < n - 1; ++i) {
    c0 += zi * (c[i] + zn1 * c[n - 1 - i]);
    zi *= z;
  }
  c[0] = c0 / (1 - zn1 * zn1);
  for (int64_t i = 1; i < n; ++i) c[i] += z * c[i - 1];
  c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1);
  for (int64_t i = n - 2; i >= 0; --i) c[i] = z * (c[i + 1] - c[i]);
}

struct Strides {
  std::vector<int64_t> shape, stride;
  explicit Strides(std::vector<int64_t> s) : shape(std::move(s)), stride(shape.size(), 1) {
    for (size_t d = shape.size(); d-- > 1;) stride[d - 1] = stride[d] * shape[d];
  }
  int64_t numel() const { return shape.empty() ? 1 : stride[0] * shape[0]; }
};

// np.pad(in, 12, mode='edge') then spline_filter along every axis.
std::vector<double> prefiltered(const std::vector<double>& in, const Strides& src, int order, Strides& padded) {
  std::vector<int64_t> ps;
  for (int64_t s : src.shape) ps.push_back(s + 2 * kPrepad);
  padded = Strides(ps);
  std::vector<double> out(static_cast<size_t>(padded.numel()));
  const size_t r = ps.size();
  std::vector<int64_t> idx(r, 0);
  for (int64_t i = 0; i < padded.numel(); ++i) {
    int64_t rem = i, s = 0;
    for (size_t d = r; d-- > 0;) {
      idx[d] = rem % ps[d];
      rem /= ps[d];
      s += std::clamp<int64_t>(idx[d] - kPrepad, 0, src.shape[d] - 1) * src.stride[d];
    }
    out[size_t(i)] = in[size_t(s)];
  }
  std::vector<double> line;
  for (size_t ax = 0; ax < r; ++ax) {
    const int64_t n = ps[ax], st = padded.stride[ax], lines = padded.numel() / n;
    line.resize(size_t(n));
    for (int64_t l = 0; l < lines; ++l) {
      const int64_t outer = l / st, inner = l % st, base = outer * st * n + inner;
      for (int64_t k = 0; k < n; ++k) line[size_t(k)] = out[size_t(base + k * st)];
      filter_line(line.data(), n, order);
      for (int64_t k = 0; k < n; ++k) out[size_t(base + k * st)] = line[size_t(k)];
    }
  }
  return out;
}

}  // namespace

std::vector<double> resize_like_skimage(const std::vector<double>& in, const std::vector<int64_t>& shape,
                                        const std::vector<int64_t>& new_shape, int order) {
  if (shape.empty() || shape.size() > 3 || shape.size() != new_shape.size())
    throw Error(Status::invalid_argument, "nnU-Net resize: rank must be 1 to 3");
  const Strides src(shape);
  if (int64_t(in.size()) != src.numel()) throw Error(Status::invalid_argument, "nnU-Net resize: data size differs from shape");
  if (order < 0 || order > 3) throw Error(Status::unsupported, "nnU-Net resize: spline order " + std::to_string(order));
  const auto [mn, mx] = std::minmax_element(in.begin(), in.end());
  const double lo = *mn, hi = *mx;
  Strides coef = src;
  const std::vector<double> c = order > 1 ? prefiltered(in, src, order, coef) : in;
  const int64_t npad = order > 1 ? kPrepad : 0;
  const size_t r = shape.size();
  // Per axis and output index: the first tap (mirrored where beyond the edge) and its weights.
  std::vector<std::vector<std::vector<int64_t>>> taps(r);
  std::vector<std::vector<std::vector<double>>> wts(r);
  for (size_t d = 0; d < r; ++d) {
    const int64_t len = coef.shape[d];
    const double zoom = double(shape[d]) / double(new_shape[d]);
    for (int64_t o = 0; o < new_shape[d]; ++o) {
      double cc = (double(o) + 0.5) * zoom - 0.5 + double(npad);
      if (cc < 0) cc = 0;  // mode 'nearest'
      if (cc > double(len - 1)) cc = double(len - 1);
      const int64_t start = int64_t((order & 1) ? std::floor(cc) : std::floor(cc + 0.5)) - order / 2;
      std::vector<int64_t> t(size_t(order + 1));
      for (int k = 0; k <= order; ++k) t[size_t(k)] = mirror_index(start + k, len) * coef.stride[d];
      std::vector<double> w(size_t(order + 1), 1.0);
      if (order > 0) spline_weights(cc, order, w.data());
      taps[d].push_back(std::move(t));
      wts[d].push_back(std::move(w));
    }
  }
  const Strides dst(new_shape);
  std::vector<double> out(static_cast<size_t>(dst.numel()));
  const int64_t fs = int64_t(std::pow(order + 1, double(r)));
  std::vector<int64_t> o(r), f(r);
  for (int64_t i = 0; i < dst.numel(); ++i) {
    int64_t rem = i;
    for (size_t d = r; d-- > 0;) {
      o[d] = rem % new_shape[d];
      rem /= new_shape[d];
    }
    double t = 0.0;
    for (int64_t h = 0; h < fs; ++h) {  // taps with the last axis fastest, as scipy sums them
      int64_t hr = h, idx = 0;
      for (size_t d = r; d-- > 0;) {
        f[d] = hr % (order + 1);
        hr /= order + 1;
        idx += taps[d][size_t(o[d])][size_t(f[d])];
      }
      double coeff = c[size_t(idx)];
      if (order > 0)
        for (size_t d = 0; d < r; ++d) coeff *= wts[d][size_t(o[d])][size_t(f[d])];
      t += coeff;
    }
    out[size_t(i)] = std::min(std::max(t, lo), hi);
  }
  return out;
}

std::optional<int> separate_z_axis(std::optional<bool> force, const std::vector<double>& cur,
                                   const std::vector<double>& target) {
  auto lowres = [](const std::vector<double>& sp) {
    const double mx = *std::max_element(sp.begin(), sp.end());
    std::vector<int> axes;
    for (size_t d = 0; d < sp.size(); ++d)
      if (mx / sp[d] == 1) axes.push_back(int(d));
    return axes;
  };
  const double threshold = 3;
  std::vector<int> axes;
  bool do_sep = false;
  if (force.has_value()) {
    do_sep = *force;
    if (do_sep) axes = lowres(cur);
  } else if (*std::max_element(cur.begin(), cur.end()) / *std::min_element(cur.begin(), cur.end()) > threshold) {
    do_sep = true;
    axes = lowres(cur);
  } else if (*std::max_element(target.begin(), target.end()) / *std::min_element(target.begin(), target.end()) >
             threshold) {
    do_sep = true;
    axes = lowres(target);
  }
  if (!do_sep || axes.size() != 1) return std::nullopt;  // no single anisotropic axis
  return axes[0];
}

std::vector<double> resample_channel(const std::vector<double>& in, const std::vector<int64_t>& shape,
                                     const std::vector<int64_t>& new_shape, std::optional<int> z_axis, int order,
                                     int order_z) {
  if (shape == new_shape) return in;
  if (!z_axis) return resize_like_skimage(in, shape, new_shape, order);
  if (shape.size() != 3) throw Error(Status::invalid_argument, "nnU-Net separate-z resampling needs 3 axes");
  if (order_z < 0 || order_z > 1) throw Error(Status::unsupported, "nnU-Net resampling: order_z " + std::to_string(order_z));
  const int ax = *z_axis;
  std::vector<int> plane;
  for (int d = 0; d < 3; ++d)
    if (d != ax) plane.push_back(d);
  std::vector<int64_t> tmp = new_shape;
  tmp[size_t(ax)] = shape[size_t(ax)];
  const Strides src(shape), mid(tmp);
  std::vector<double> here(static_cast<size_t>(mid.numel()));
  const std::vector<int64_t> pin{shape[size_t(plane[0])], shape[size_t(plane[1])]};
  const std::vector<int64_t> pout{new_shape[size_t(plane[0])], new_shape[size_t(plane[1])]};
  for (int64_t s = 0; s < shape[size_t(ax)]; ++s) {
    std::vector<double> sl(size_t(pin[0] * pin[1]));
    for (int64_t a = 0; a < pin[0]; ++a)
      for (int64_t b = 0; b < pin[1]; ++b)
        sl[size_t(a * pin[1] + b)] =
            in[size_t(s * src.stride[size_t(ax)] + a * src.stride[size_t(plane[0])] + b * src.stride[size_t(plane[1])])];
    const auto rs = resize_like_skimage(sl, pin, pout, order);
    for (int64_t a = 0; a < pout[0]; ++a)
      for (int64_t b = 0; b < pout[1]; ++b)
        here[size_t(s * mid.stride[size_t(ax)] + a * mid.stride[size_t(plane[0])] + b * mid.stride[size_t(plane[1])])] =
            rs[size_t(a * pout[1] + b)];
  }
  if (shape[size_t(ax)] == new_shape[size_t(ax)]) return here;
  // map_coordinates(order_z, mode 'nearest') along the axis; in-plane coordinates are exact.
  const Strides dst(new_shape);
  std::vector<double> out(static_cast<size_t>(dst.numel()));
  const int64_t len = tmp[size_t(ax)];
  const double ratio = double(len) / double(new_shape[size_t(ax)]);
  for (int64_t z = 0; z < new_shape[size_t(ax)]; ++z) {
    double cc = ratio * (double(z) + 0.5) - 0.5;
    if (cc < 0) cc = 0;
    if (cc > double(len - 1)) cc = double(len - 1);
    int64_t i0;
    double w0 = 1.0, w1 = 0.0;
    if (order_z == 0) {
      i0 = int64_t(std::floor(cc + 0.5));
    } else {
      i0 = int64_t(std::floor(cc));
      w0 = 1.0 - (cc - std::floor(cc));
      w1 = 1.0 - w0;
    }
    const int64_t i1 = mirror_index(i0 + 1, len);
    for (int64_t a = 0; a < new_shape[size_t(plane[0])]; ++a)
      for (int64_t b = 0; b < new_shape[size_t(plane[1])]; ++b) {
        const int64_t off = a * mid.stride[size_t(plane[0])] + b * mid.stride[size_t(plane[1])];
        const double v0 = here[size_t(i0 * mid.stride[size_t(ax)] + off)];
        double v = v0;
        if (order_z == 1) v = (0.0 + v0 * w0) + here[size_t(i1 * mid.stride[size_t(ax)] + off)] * w1;
        out[size_t(z * dst.stride[size_t(ax)] + a * dst.stride[size_t(plane[0])] + b * dst.stride[size_t(plane[1])])] = v;
      }
  }
  return out;
}

}  // namespace vx::nnunet
