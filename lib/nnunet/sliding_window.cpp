#include "nnunet/sliding_window.h"

#include <cmath>
#include <string>

#include <algorithm>

#include "core/error.h"

namespace vx::nnunet {

std::vector<std::vector<int64_t>> compute_steps(const std::vector<int64_t>& image_size,
                                                const std::vector<int64_t>& tile_size, double tile_step_size) {
  if (image_size.size() != tile_size.size()) throw Error(Status::invalid_argument, "nnU-Net sliding window: image and tile ranks differ");
  for (size_t d = 0; d < tile_size.size(); ++d)
    if (image_size[d] < tile_size[d] || tile_size[d] <= 0)
      throw Error(Status::invalid_argument, "nnU-Net sliding window: image smaller than the tile on axis " + std::to_string(d));
  if (!(tile_step_size > 0 && tile_step_size <= 1))
    throw Error(Status::invalid_argument, "nnU-Net sliding window: tile step must be in (0, 1], got " + std::to_string(tile_step_size));
  std::vector<std::vector<int64_t>> steps;
  for (size_t d = 0; d < tile_size.size(); ++d) {
    const double target = double(tile_size[d]) * tile_step_size;
    const int64_t n = int64_t(std::ceil(double(image_size[d] - tile_size[d]) / target)) + 1;
    const double top = double(image_size[d] - tile_size[d]);
    const double actual = n > 1 ? top / double(n - 1) : 99999999999.0;
    std::vector<int64_t> s;
    for (int64_t i = 0; i < n; ++i) s.push_back(int64_t(std::nearbyint(actual * double(i))));  // np.round: ties to even
    steps.push_back(std::move(s));
  }
  return steps;
}

PadPlan pad_to_patch(const std::vector<int64_t>& size, const std::vector<int64_t>& patch) {
  PadPlan p{size, std::vector<int64_t>(size.size(), 0)};
  const size_t off = size.size() - patch.size();  // patch applies to the last axes
  for (size_t d = 0; d < patch.size(); ++d) {
    const int64_t diff = std::max<int64_t>(patch[d] - size[off + d], 0);
    p.padded[off + d] = size[off + d] + diff;
    p.below[off + d] = diff / 2;
  }
  return p;
}

std::vector<Tile> tile_grid(const std::array<int64_t, 3>& padded, const std::vector<int64_t>& patch,
                            double tile_step_size) {
  std::vector<Tile> tiles;
  if (patch.size() == 2) {
    const auto st = compute_steps({padded[1], padded[2]}, patch, tile_step_size);
    for (int64_t d = 0; d < padded[0]; ++d)
      for (int64_t x : st[0])
        for (int64_t y : st[1]) tiles.push_back({{d, x, y}});
    return tiles;
  }
  if (patch.size() != 3) throw Error(Status::invalid_argument, "nnU-Net sliding window: patch must have 2 or 3 axes");
  const auto st = compute_steps({padded[0], padded[1], padded[2]}, patch, tile_step_size);
  for (int64_t a : st[0])
    for (int64_t b : st[1])
      for (int64_t c : st[2]) tiles.push_back({{a, b, c}});
  return tiles;
}

}  // namespace vx::nnunet
