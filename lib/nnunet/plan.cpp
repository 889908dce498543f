#include "nnunet/plan.h"

#include <algorithm>

#include "core/error.h"

namespace vx::nnunet {

namespace {
const nlohmann::json& need(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null())
    throw Error(Status::corrupt_file, std::string("nnU-Net metadata: missing '") + key + "'");
  return j[key];
}

ResamplePlan resample_plan(const nlohmann::json& r, const char* which) {
  ResamplePlan p;
  if (!r.contains(which)) return p;
  const auto& k = r[which].value("kwargs", nlohmann::json::object());
  if (k.value("is_seg", false)) throw Error(Status::unsupported, std::string("nnU-Net metadata: resampling.") + which + " is a segmentation resampling");
  p.order = k.value("order", 3);
  p.order_z = k.value("order_z", 0);
  if (k.contains("force_separate_z") && !k["force_separate_z"].is_null()) p.force_separate_z = k["force_separate_z"].get<bool>();
  return p;
}
}  // namespace

Plan plan_from_metadata(const nlohmann::json& nn) {
  try {
    Plan p;
    for (const auto& c : need(nn, "channels")) {
      ChannelPlan ch;
      ch.name = c.value("name", "");
      ch.scheme = scheme_from_name(need(c, "normalization").get<std::string>());
      ch.use_mask_for_norm = c.value("use_mask_for_norm", false);
      const auto& ip = c.value("intensity_properties", nlohmann::json::object());
      ch.props.mean = ip.value("mean", 0.0);
      ch.props.std = ip.value("std", 1.0);
      ch.props.percentile_00_5 = ip.value("percentile_00_5", 0.0);
      ch.props.percentile_99_5 = ip.value("percentile_99_5", 0.0);
      if (ch.scheme == Scheme::ct && !(ip.contains("mean") && ip.contains("std") && ip.contains("percentile_00_5") &&
                                      ip.contains("percentile_99_5")))
        throw Error(Status::corrupt_file, "nnU-Net metadata: CTNormalization channel '" + ch.name + "' lacks intensity_properties");
      p.channels.push_back(ch);
    }
    if (p.channels.empty()) throw Error(Status::corrupt_file, "nnU-Net metadata: no channels");
    p.spacing = need(nn, "spacing").get<std::vector<double>>();
    p.patch_size = need(nn, "patch_size").get<std::vector<int64_t>>();
    if (p.patch_size.size() < 2 || p.patch_size.size() > 3 || p.spacing.size() != p.patch_size.size())
      throw Error(Status::corrupt_file, "nnU-Net metadata: patch_size/spacing must have 2 or 3 matching axes");
    p.transpose_forward = need(nn, "transpose_forward").get<std::vector<int>>();
    p.transpose_backward = need(nn, "transpose_backward").get<std::vector<int>>();
    for (const auto* t : {&p.transpose_forward, &p.transpose_backward}) {
      auto s = *t;
      std::sort(s.begin(), s.end());
      if (s != std::vector<int>{0, 1, 2}) throw Error(Status::corrupt_file, "nnU-Net metadata: transpose is not a permutation of 0, 1, 2");
    }
    if (nn.contains("allowed_mirroring_axes") && !nn["allowed_mirroring_axes"].is_null())
      p.mirror_axes = nn["allowed_mirroring_axes"].get<std::vector<int>>();
    const auto& rs = nn.value("resampling", nlohmann::json::object());
    p.data = resample_plan(rs, "data");
    p.probabilities = resample_plan(rs, "probabilities");
    if (!rs.contains("probabilities")) p.probabilities.order = 1;
    p.heads = need(nn, "num_segmentation_heads").get<int64_t>();
    p.has_regions = nn.value("has_regions", false);
    if (p.has_regions) p.regions_class_order = need(nn, "regions_class_order").get<std::vector<int>>();
    for (auto it = need(nn, "labels").begin(); it != nn["labels"].end(); ++it) {
      if (it.key() == "ignore") continue;
      if (it.value().is_array()) {
        for (const auto& v : it.value()) p.max_label = std::max(p.max_label, v.get<int>());
      } else {
        p.max_label = std::max(p.max_label, it.value().get<int>());
      }
    }
    const auto& sw = nn.value("sliding_window", nlohmann::json::object());
    p.tile_step_size = sw.value("tile_step_size", 0.5);
    p.sigma_scale = sw.value("gaussian_sigma_scale", 1.0 / 8);
    p.value_scaling = sw.value("gaussian_value_scaling_factor", 10.0);
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw Error(Status::corrupt_file, std::string("nnU-Net metadata: ") + e.what());
  }
}

}  // namespace vx::nnunet
