#include "nnunet/preprocess.h"

#include "core/error.h"
#include "nnunet/resample.h"

namespace vx::nnunet {

std::vector<double> target_spacing(const Plan& plan, const std::vector<double>& spacing_t) {
  std::vector<double> t = plan.spacing;
  if (t.size() == 2) t.insert(t.begin(), spacing_t[0]);
  return t;
}

Preprocessed preprocess_case(const std::vector<std::vector<float>>& channels, const Dims& dims,
                             const std::vector<double>& spacing, const Plan& plan) {
  if (channels.size() != plan.channels.size())
    throw Error(Status::invalid_argument, "nnU-Net: the model takes " + std::to_string(plan.channels.size()) +
                                              " input channel(s), got " + std::to_string(channels.size()));
  if (spacing.size() != 3) throw Error(Status::invalid_argument, "nnU-Net: spacing must have 3 values");
  const int64_t n = dims[0] * dims[1] * dims[2];
  const auto& tf = plan.transpose_forward;
  Preprocessed out;
  Dims td{dims[size_t(tf[0])], dims[size_t(tf[1])], dims[size_t(tf[2])]};
  out.shape_before_crop = td;
  for (int d = 0; d < 3; ++d) out.spacing_t.push_back(spacing[size_t(tf[size_t(d)])]);
  // Transpose: output index (a0, a1, a2) reads input index with axis tf[d] = a_d.
  const int64_t sin[3] = {dims[1] * dims[2], dims[2], 1};
  std::vector<std::vector<float>> t(channels.size(), std::vector<float>(static_cast<size_t>(n)));
  for (size_t c = 0; c < channels.size(); ++c) {
    if (int64_t(channels[c].size()) != n) throw Error(Status::invalid_argument, "nnU-Net: channels differ in size");
    int64_t i = 0;
    for (int64_t a = 0; a < td[0]; ++a)
      for (int64_t b = 0; b < td[1]; ++b)
        for (int64_t k = 0; k < td[2]; ++k)
          t[c][size_t(i++)] = channels[c][size_t(a * sin[tf[0]] + b * sin[tf[1]] + k * sin[tf[2]])];
  }
  std::vector<const float*> ptrs;
  for (const auto& c : t) ptrs.push_back(c.data());
  const auto mask = nonzero_mask(ptrs, td);
  out.box = bbox_from_mask(mask, td);
  const Dims cs = out.box.size();
  const auto cmask = crop(mask.data(), td, out.box);
  const std::vector<int64_t> cshape{cs[0], cs[1], cs[2]};
  const auto target = target_spacing(plan, out.spacing_t);
  const auto new_shape = compute_new_shape(cshape, out.spacing_t, target);
  const auto z = separate_z_axis(plan.data.force_separate_z, out.spacing_t, target);
  out.shape = {new_shape[0], new_shape[1], new_shape[2]};
  const int64_t nn = new_shape[0] * new_shape[1] * new_shape[2];
  out.data.reserve(size_t(nn) * channels.size());
  for (size_t c = 0; c < t.size(); ++c) {
    auto img = crop(t[c].data(), td, out.box);
    const auto& ch = plan.channels[c];
    normalize_channel(img.data(), int64_t(img.size()), ch.scheme, ch.use_mask_for_norm, cmask.data(), ch.props);
    if (cshape == new_shape) {
      out.data.insert(out.data.end(), img.begin(), img.end());
      continue;
    }
    const auto r = resample_channel(std::vector<double>(img.begin(), img.end()), cshape, new_shape, z, plan.data.order,
                                    plan.data.order_z);
    for (double v : r) out.data.push_back(float(v));
  }
  return out;
}

}  // namespace vx::nnunet
