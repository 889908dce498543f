#include "nnunet/export.h"

#include <cmath>

#include "core/error.h"
#include "nnunet/half.h"
#include "nnunet/resample.h"

namespace vx::nnunet {

std::vector<uint16_t> export_labels(const std::vector<float>& logits, const Dims& net_shape, const Preprocessed& props,
                                    const Plan& plan, bool half, std::vector<float>* resampled) {
  const int64_t nn = net_shape[0] * net_shape[1] * net_shape[2];
  if (plan.heads <= 0 || int64_t(logits.size()) != plan.heads * nn)
    throw Error(Status::invalid_argument, "nnU-Net export: logits size differs from heads x shape");
  const Dims cs = props.box.size();
  const std::vector<int64_t> from{net_shape[0], net_shape[1], net_shape[2]}, to{cs[0], cs[1], cs[2]};
  const auto current = target_spacing(plan, props.spacing_t);
  const auto z = separate_z_axis(plan.probabilities.force_separate_z, current, props.spacing_t);
  const int64_t nc = cs[0] * cs[1] * cs[2];
  std::vector<float> back(static_cast<size_t>(plan.heads * nc));
  for (int64_t c = 0; c < plan.heads; ++c) {
    const std::vector<double> ch(logits.begin() + c * nn, logits.begin() + (c + 1) * nn);
    const auto r = from == to ? ch : resample_channel(ch, from, to, z, plan.probabilities.order, plan.probabilities.order_z);
    for (int64_t i = 0; i < nc; ++i) back[size_t(c * nc + i)] = half ? round_double_to_half(r[size_t(i)]) : float(r[size_t(i)]);
  }
  std::vector<uint16_t> seg(static_cast<size_t>(nc), 0);
  if (plan.has_regions) {
    if (int64_t(plan.regions_class_order.size()) != plan.heads)
      throw Error(Status::corrupt_file, "nnU-Net export: regions_class_order has not one entry per head");
    for (int64_t c = 0; c < plan.heads; ++c)
      for (int64_t i = 0; i < nc; ++i)
        if (1.0f / (1.0f + std::exp(-back[size_t(c * nc + i)])) > 0.5f) seg[size_t(i)] = uint16_t(plan.regions_class_order[size_t(c)]);
  } else {
    for (int64_t i = 0; i < nc; ++i) {
      int64_t best = 0;
      for (int64_t c = 1; c < plan.heads; ++c)
        if (back[size_t(c * nc + i)] > back[size_t(best * nc + i)]) best = c;  // first maximum, as argmax
      seg[size_t(i)] = uint16_t(best);
    }
  }
  const auto full = paste(seg.data(), props.shape_before_crop, props.box);
  // Transpose back: output axis d is the transposed volume's axis tb[d].
  const auto& tb = plan.transpose_backward;
  const Dims& td = props.shape_before_crop;
  const Dims od{td[size_t(tb[0])], td[size_t(tb[1])], td[size_t(tb[2])]};
  const int64_t st[3] = {td[1] * td[2], td[2], 1};
  std::vector<uint16_t> out(full.size());
  int64_t i = 0;
  for (int64_t a = 0; a < od[0]; ++a)
    for (int64_t b = 0; b < od[1]; ++b)
      for (int64_t k = 0; k < od[2]; ++k) out[size_t(i++)] = full[size_t(a * st[tb[0]] + b * st[tb[1]] + k * st[tb[2]])];
  if (resampled) *resampled = std::move(back);
  return out;
}

}  // namespace vx::nnunet
