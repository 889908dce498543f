// What nnU-Net inference needs from a .vxm's metadata.nnunet (weights/FORMAT.md, "nnU-Net models"),
// read into plain values with clear errors for what is missing or not supported.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nnunet/normalize.h"

namespace vx::nnunet {

struct ChannelPlan {
  std::string name;
  Scheme scheme = Scheme::zscore;
  bool use_mask_for_norm = false;
  IntensityProperties props;
};

struct ResamplePlan {
  int order = 3, order_z = 0;
  std::optional<bool> force_separate_z;
};

struct Plan {
  std::vector<ChannelPlan> channels;
  std::vector<double> spacing;       // target, transposed axis order (2 values for 2d)
  std::vector<int64_t> patch_size;   // 2 or 3 values
  std::vector<int> transpose_forward{0, 1, 2}, transpose_backward{0, 1, 2};
  std::vector<int> mirror_axes;      // allowed_mirroring_axes (spatial, 0-based)
  ResamplePlan data, probabilities;
  int64_t heads = 0;
  bool has_regions = false;
  std::vector<int> regions_class_order;
  int max_label = 0;                 // largest foreground label (uint8 vs uint16 output)
  double tile_step_size = 0.5, sigma_scale = 1.0 / 8, value_scaling = 10;
};

// metadata["nnunet"]; throws vx::Error naming the key on anything missing or malformed.
Plan plan_from_metadata(const nlohmann::json& nnunet);

}  // namespace vx::nnunet
