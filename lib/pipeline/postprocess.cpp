#include "pipeline/postprocess.h"

#include <algorithm>
#include <cmath>

namespace vx {
namespace {

void check_f32(const Tensor& t, const char* what) {
  if (!(t.defined() && t.dtype() == DType::f32 && t.is_contiguous() && t.numel() > 0))
    fail(Status::invalid_argument, std::string(what) + ": expected a non-empty contiguous float32 tensor");
}

void check_3d(const Tensor& t, const char* what) {
  check_f32(t, what);
  if (t.rank() != 3) fail(Status::invalid_argument, std::string(what) + ": expected a [D, H, W] tensor");
}

Shape drop_first(const Shape& s) {
  Shape r;
  r.rank = s.rank - 1;
  for (int i = 1; i < s.rank; ++i) r[i - 1] = s[i];
  return r;
}

void check_same(const Tensor& a, const Tensor& b, const char* what) {
  check_f32(a, what);
  check_f32(b, what);
  if (a.shape() != b.shape())
    fail(Status::shape_mismatch, std::string(what) + ": shapes differ, " + a.shape().str() + " vs " + b.shape().str());
}

void overlap(const Tensor& a, const Tensor& b, float label, int64_t& inter, int64_t& na, int64_t& nb) {
  const float* x = a.f32();
  const float* y = b.f32();
  inter = na = nb = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    bool p = label >= 0 ? x[i] == label : x[i] > 0.5f;
    bool q = label >= 0 ? y[i] == label : y[i] > 0.5f;
    na += p, nb += q, inter += p && q;
  }
}

}  // namespace

Tensor softmax(const Tensor& logits) {
  check_f32(logits, "softmax");
  if (logits.rank() < 1) fail(Status::invalid_argument, "softmax: needs a channel axis");
  const int64_t K = logits.dim(0), n = logits.numel() / K;
  Tensor out = Tensor::empty(logits.shape());
  const float* x = logits.f32();
  float* y = out.f32();
  for (int64_t i = 0; i < n; ++i) {
    float m = x[i];
    for (int64_t k = 1; k < K; ++k) m = std::max(m, x[k * n + i]);
    double s = 0;
    for (int64_t k = 0; k < K; ++k) s += std::exp(double(x[k * n + i] - m));
    for (int64_t k = 0; k < K; ++k) y[k * n + i] = static_cast<float>(std::exp(double(x[k * n + i] - m)) / s);
  }
  return out;
}

Tensor sigmoid(const Tensor& x) {
  check_f32(x, "sigmoid");
  Tensor out = Tensor::empty(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) out.f32()[i] = static_cast<float>(1.0 / (1.0 + std::exp(-double(x.f32()[i]))));
  return out;
}

Tensor argmax(const Tensor& scores) {
  check_f32(scores, "argmax");
  if (scores.rank() < 1) fail(Status::invalid_argument, "argmax: needs a channel axis");
  const int64_t K = scores.dim(0), n = scores.numel() / K;
  Tensor out = Tensor::empty(drop_first(scores.shape()));
  const float* x = scores.f32();
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0;
    for (int64_t k = 1; k < K; ++k)
      if (x[k * n + i] > x[best * n + i]) best = k;
    out.f32()[i] = float(best);
  }
  return out;
}

Tensor threshold(const Tensor& x, float t) {
  check_f32(x, "threshold");
  Tensor out = Tensor::empty(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) out.f32()[i] = x.f32()[i] > t ? 1.f : 0.f;
  return out;
}

Components connected_components(const Tensor& mask, int connectivity) {
  check_3d(mask, "connected_components");
  if (connectivity != 6 && connectivity != 26) fail(Status::invalid_argument, "connectivity must be 6 or 26");
  const int64_t D = mask.dim(0), H = mask.dim(1), W = mask.dim(2), N = mask.numel();
  std::vector<std::array<int, 3>> nb;
  for (int dz = -1; dz <= 1; ++dz)
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        int m = std::abs(dz) + std::abs(dy) + std::abs(dx);
        if (m == 0 || (connectivity == 6 && m != 1)) continue;
        nb.push_back({dz, dy, dx});
      }
  Components c;
  c.labels = Tensor::zeros(mask.shape());
  const float* in = mask.f32();
  float* lab = c.labels.f32();
  std::vector<int64_t> stack;
  for (int64_t start = 0; start < N; ++start) {
    if (!(in[start] > 0.5f) || lab[start] != 0) continue;
    const float id = float(++c.count);
    int64_t size = 0;
    stack.push_back(start);
    lab[start] = id;
    while (!stack.empty()) {
      const int64_t v = stack.back();
      stack.pop_back();
      ++size;
      const int64_t z = v / (H * W), y = v / W % H, x = v % W;
      for (const auto& o : nb) {
        const int64_t zz = z + o[0], yy = y + o[1], xx = x + o[2];
        if (zz < 0 || zz >= D || yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
        const int64_t u = (zz * H + yy) * W + xx;
        if (in[u] > 0.5f && lab[u] == 0) lab[u] = id, stack.push_back(u);
      }
    }
    c.sizes.push_back(size);
  }
  return c;
}

Tensor keep_largest_component(const Tensor& mask, int connectivity) {
  Components c = connected_components(mask, connectivity);
  Tensor out = Tensor::zeros(mask.shape());
  if (c.count == 0) return out;
  const float keep = float(std::max_element(c.sizes.begin(), c.sizes.end()) - c.sizes.begin() + 1);
  for (int64_t i = 0; i < out.numel(); ++i) out.f32()[i] = c.labels.f32()[i] == keep ? 1.f : 0.f;
  return out;
}

double lesion_volume_ml(const Tensor& mask, const std::array<double, 3>& sp) {
  check_f32(mask, "lesion_volume_ml");
  for (double s : sp)
    if (!(s > 0 && std::isfinite(s))) fail(Status::invalid_argument, "lesion_volume_ml: spacing must be positive");
  int64_t n = 0;
  for (int64_t i = 0; i < mask.numel(); ++i) n += mask.f32()[i] > 0.5f;
  return double(n) * sp[0] * sp[1] * sp[2] / 1000.0;
}

double dice(const Tensor& a, const Tensor& b, float label) {
  check_same(a, b, "dice");
  int64_t i, na, nb;
  overlap(a, b, label, i, na, nb);
  return na + nb == 0 ? 1.0 : 2.0 * double(i) / double(na + nb);
}

double iou(const Tensor& a, const Tensor& b, float label) {
  check_same(a, b, "iou");
  int64_t i, na, nb;
  overlap(a, b, label, i, na, nb);
  const int64_t u = na + nb - i;
  return u == 0 ? 1.0 : double(i) / double(u);
}

std::vector<int64_t> hip_scoring_slices(int64_t n_slices, int64_t centre) {
  if (centre - 7 < 0 || centre + 7 >= n_slices)
    fail(Status::invalid_argument, "hip score needs 15 slices centred on slice " + std::to_string(centre) + ", volume has " +
                                       std::to_string(n_slices));
  std::vector<int64_t> s;
  for (int64_t i = centre - 7; i <= centre + 7; ++i) s.push_back(i);
  return s;
}

HipScore hip_unet_score(const Tensor& labels, const std::vector<int64_t>& slices, const Tensor* image,
                        const HipScoreOptions& opts) {
  check_3d(labels, "hip_unet_score");
  if (image) check_same(labels, *image, "hip_unet_score image");
  const int64_t S = labels.dim(0), plane = labels.dim(1) * labels.dim(2);
  HipScore r;
  for (int64_t s : slices) {
    if (s < 0 || s >= S) fail(Status::invalid_argument, "hip_unet_score: slice index " + std::to_string(s) + " out of range");
    const float* l = labels.f32() + s * plane;
    const float* im = image ? image->f32() + s * plane : nullptr;
    double head = 0, lesion = 0, head_w = 0, lesion_w = 0;
    for (int64_t i = 0; i < plane; ++i) {
      const bool is_lesion = l[i] == opts.lesion_label;
      const bool in_head = l[i] == opts.head_label || (opts.head_includes_lesion && is_lesion);
      if (in_head) head += 1, head_w += im ? im[i] : 0.0;
      if (is_lesion) lesion += 1, lesion_w += im ? im[i] : 0.0;
    }
    const double f = head > 0 ? lesion / head : 0.0;
    const double fw = head_w > 0 ? lesion_w / head_w : 0.0;
    r.per_slice.push_back(f);
    r.per_slice_weighted.push_back(fw);
    r.score += f;
    r.weighted_score += fw;
  }
  return r;
}

}  // namespace vx
