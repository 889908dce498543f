#include "nnunet/normalize.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "nnunet/numpy_sum.h"

namespace vx::nnunet {

Scheme scheme_from_name(const std::string& name) {
  if (name == "ZScoreNormalization") return Scheme::zscore;
  if (name == "CTNormalization") return Scheme::ct;
  if (name == "RescaleTo01Normalization") return Scheme::rescale01;
  if (name == "NoNormalization") return Scheme::none;
  throw Error(Status::unsupported, "nnU-Net normalisation scheme '" + name + "' is not supported");
}

namespace {
constexpr float kEps = 1e-8f;

// ndarray.mean() and ndarray.std() (ddof 0) of a float32 array, as NumPy computes them.
void mean_std(const std::vector<float>& v, float& mean, float& std) {
  const auto n = std::ptrdiff_t(v.size());
  mean = numpy_pairwise_sum(v.data(), n) / float(n);
  std::vector<float> sq(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const float d = v[i] - mean;
    sq[i] = d * d;
  }
  std = std::sqrt(numpy_pairwise_sum(sq.data(), n) / float(n));
}
}  // namespace

void normalize_channel(float* image, int64_t n, Scheme scheme, bool use_mask, const uint8_t* mask,
                       const IntensityProperties& props) {
  if (n <= 0) throw Error(Status::invalid_argument, "nnU-Net normalisation: empty image");
  switch (scheme) {
    case Scheme::zscore: {
      std::vector<float> sel;
      if (use_mask) {
        if (!mask) throw Error(Status::invalid_argument, "nnU-Net z-score with mask: no mask");
        for (int64_t i = 0; i < n; ++i)
          if (mask[i]) sel.push_back(image[i]);
        if (sel.empty()) throw Error(Status::invalid_argument, "nnU-Net z-score with mask: the mask is empty");
      } else {
        sel.assign(image, image + n);
      }
      float mean, std;
      mean_std(sel, mean, std);
      const float div = std::max(std, kEps);
      for (int64_t i = 0; i < n; ++i)
        if (!use_mask || mask[i]) image[i] = (image[i] - mean) / div;
      return;
    }
    case Scheme::ct: {
      const float lo = float(props.percentile_00_5), hi = float(props.percentile_99_5);
      const float mean = float(props.mean), div = float(std::max(props.std, 1e-8));
      for (int64_t i = 0; i < n; ++i) image[i] = (std::min(std::max(image[i], lo), hi) - mean) / div;
      return;
    }
    case Scheme::rescale01: {
      const float lo = *std::min_element(image, image + n);
      for (int64_t i = 0; i < n; ++i) image[i] -= lo;
      const float hi = std::max(*std::max_element(image, image + n), kEps);
      for (int64_t i = 0; i < n; ++i) image[i] /= hi;
      return;
    }
    case Scheme::none:
      return;
  }
}

}  // namespace vx::nnunet
