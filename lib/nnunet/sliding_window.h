// nnU-Net's sliding-window geometry (inference/sliding_window_prediction.py and acvl_utils'
// pad_nd_image): padding a volume up to the patch, tile start positions per axis, and the tiles
// in the order nnU-Net visits them (the order matters: its float16 sums round after every add).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace vx::nnunet {

// compute_steps_for_sliding_window: per axis, the tile starts. Throws vx::Error when the image is
// smaller than the tile or step is outside (0, 1].
std::vector<std::vector<int64_t>> compute_steps(const std::vector<int64_t>& image_size,
                                                const std::vector<int64_t>& tile_size, double tile_step_size);

// pad_nd_image with constant 0, centred (the extra voxel goes above): the padded size and the
// number of voxels added below on each axis.
struct PadPlan {
  std::vector<int64_t> padded;
  std::vector<int64_t> below;
};
PadPlan pad_to_patch(const std::vector<int64_t>& size, const std::vector<int64_t>& patch);

// One tile: the start on each of the three axes of a [D, H, W] volume. A 2-D patch on a 3-D
// volume tiles every slice d (start[0] = d, extent 1 along axis 0).
struct Tile {
  std::array<int64_t, 3> start;
};
// The tiles over a padded [D, H, W] volume in nnU-Net's order (x-y-z meshgrid 'ij' for 3-D patches;
// slice, then the 2-D steps for 2-D patches).
std::vector<Tile> tile_grid(const std::array<int64_t, 3>& padded, const std::vector<int64_t>& patch,
                            double tile_step_size);

}  // namespace vx::nnunet
