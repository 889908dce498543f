#include "nnunet/streaming_export.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "nnunet/half.h"
#include "nnunet/resample.h"

namespace vx::nnunet {

ExportResult export_streaming(LogitStore&& logits, const Dims& net_shape, const Preprocessed& props,
                              const Plan& plan, bool probabilities) {
  const bool half = logits.half();
  const int64_t nn = net_shape[0] * net_shape[1] * net_shape[2];
  if (plan.heads <= 0 || int64_t(logits.size()) != plan.heads * nn)
    throw Error(Status::invalid_argument, "nnU-Net export: logits size differs from heads x shape");
  if (plan.has_regions && int64_t(plan.regions_class_order.size()) != plan.heads)
    throw Error(Status::corrupt_file, "nnU-Net export: regions_class_order has not one entry per head");
  const Dims cs = props.box.size();
  const std::vector<int64_t> from{net_shape[0], net_shape[1], net_shape[2]}, to{cs[0], cs[1], cs[2]};
  const auto current = target_spacing(plan, props.spacing_t);
  const auto z = separate_z_axis(plan.probabilities.force_separate_z, current, props.spacing_t);
  const int64_t nc = cs[0] * cs[1] * cs[2];
  std::vector<uint16_t> seg(static_cast<size_t>(nc), 0);
  std::vector<float> best;  // running maximum (argmax); unused for regions
  std::vector<float> back;  // every head, only for probabilities
  if (probabilities) back.resize(size_t(plan.heads * nc));
  for (int64_t c = 0; c < plan.heads; ++c) {
    std::vector<double> ch(static_cast<size_t>(nn));
    for (int64_t i = 0; i < nn; ++i) ch[size_t(i)] = logits.get(size_t(c * nn + i));
    if (c == plan.heads - 1) logits.release();  // the last head is read: free them all
    std::vector<float> v(static_cast<size_t>(nc));
    {
      const auto r = from == to ? std::move(ch)
                                : resample_channel(ch, from, to, z, plan.probabilities.order, plan.probabilities.order_z);
      for (int64_t i = 0; i < nc; ++i) v[size_t(i)] = half ? round_double_to_half(r[size_t(i)]) : float(r[size_t(i)]);
    }
    if (plan.has_regions) {
      const uint16_t label = uint16_t(plan.regions_class_order[size_t(c)]);
      for (int64_t i = 0; i < nc; ++i)
        if (1.0f / (1.0f + std::exp(-v[size_t(i)])) > 0.5f) seg[size_t(i)] = label;
    } else if (c == 0) {
      best = v;
    } else {
      for (int64_t i = 0; i < nc; ++i)
        if (v[size_t(i)] > best[size_t(i)]) best[size_t(i)] = v[size_t(i)], seg[size_t(i)] = uint16_t(c);  // first maximum
    }
    if (probabilities) std::copy(v.begin(), v.end(), back.begin() + c * nc);
  }
  std::vector<float>().swap(best);
  ExportResult out;
  out.labels = transpose_back(paste(seg.data(), props.shape_before_crop, props.box), props.shape_before_crop,
                              plan.transpose_backward);
  if (probabilities) {
    // apply_inference_nonlin: float32 softmax over the heads (sigmoid per region).
    for (int64_t i = 0; i < nc; ++i) {
      if (plan.has_regions) {
        for (int64_t c = 0; c < plan.heads; ++c) {
          float& x = back[size_t(c * nc + i)];
          x = 1.0f / (1.0f + std::exp(-x));
        }
        continue;
      }
      float m = back[size_t(i)];
      for (int64_t c = 1; c < plan.heads; ++c) m = std::max(m, back[size_t(c * nc + i)]);
      float s = 0;
      for (int64_t c = 0; c < plan.heads; ++c) s += (back[size_t(c * nc + i)] = std::exp(back[size_t(c * nc + i)] - m));
      for (int64_t c = 0; c < plan.heads; ++c) back[size_t(c * nc + i)] /= s;
    }
    const Dims& td = props.shape_before_crop;
    const int64_t nt = td[0] * td[1] * td[2];
    out.probabilities.reserve(size_t(plan.heads * nt));
    for (int64_t c = 0; c < plan.heads; ++c) {
      const auto full = paste(back.data() + c * nc, td, props.box);
      const auto t = transpose_back(full, td, plan.transpose_backward);
      out.probabilities.insert(out.probabilities.end(), t.begin(), t.end());
    }
  }
  return out;
}

}  // namespace vx::nnunet
