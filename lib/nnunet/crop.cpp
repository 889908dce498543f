#include "nnunet/crop.h"

#include <algorithm>

#include "core/error.h"

namespace vx::nnunet {

std::vector<uint8_t> nonzero_mask(const std::vector<const float*>& channels, const Dims& dims) {
  if (channels.empty()) throw Error(Status::invalid_argument, "nnU-Net crop: no channel");
  const int64_t n = dims[0] * dims[1] * dims[2];
  std::vector<uint8_t> mask(size_t(n), 0);
  for (const float* c : channels)
    for (int64_t i = 0; i < n; ++i) mask[size_t(i)] |= c[i] != 0.0f;
  // Fill holes: flood the background from every border voxel (6-connectivity); what the flood
  // does not reach is a hole and becomes foreground.
  std::vector<uint8_t> outside(size_t(n), 0);
  std::vector<int64_t> stack;
  auto push = [&](int64_t i) {
    if (!mask[size_t(i)] && !outside[size_t(i)]) {
      outside[size_t(i)] = 1;
      stack.push_back(i);
    }
  };
  for (int64_t i = 0; i < dims[0]; ++i)
    for (int64_t j = 0; j < dims[1]; ++j)
      for (int64_t k = 0; k < dims[2]; ++k)
        if (i == 0 || j == 0 || k == 0 || i == dims[0] - 1 || j == dims[1] - 1 || k == dims[2] - 1)
          push((i * dims[1] + j) * dims[2] + k);
  while (!stack.empty()) {
    const int64_t v = stack.back();
    stack.pop_back();
    const int64_t k = v % dims[2], j = (v / dims[2]) % dims[1], i = v / (dims[1] * dims[2]);
    if (i > 0) push(v - dims[1] * dims[2]);
    if (i + 1 < dims[0]) push(v + dims[1] * dims[2]);
    if (j > 0) push(v - dims[2]);
    if (j + 1 < dims[1]) push(v + dims[2]);
    if (k > 0) push(v - 1);
    if (k + 1 < dims[2]) push(v + 1);
  }
  for (int64_t i = 0; i < n; ++i) mask[size_t(i)] = !outside[size_t(i)];
  return mask;
}

Box bbox_from_mask(const std::vector<uint8_t>& mask, const Dims& dims) {
  Box b{{dims[0], dims[1], dims[2]}, {-1, -1, -1}};
  for (int64_t i = 0; i < dims[0]; ++i)
    for (int64_t j = 0; j < dims[1]; ++j)
      for (int64_t k = 0; k < dims[2]; ++k)
        if (mask[size_t((i * dims[1] + j) * dims[2] + k)]) {
          const int64_t idx[3] = {i, j, k};
          for (int a = 0; a < 3; ++a) {
            b.start[a] = std::min(b.start[a], idx[a]);
            b.end[a] = std::max(b.end[a], idx[a] + 1);
          }
        }
  for (int a = 0; a < 3; ++a)
    if (b.end[a] < 0) b.start[a] = 0, b.end[a] = dims[a];
  return b;
}

}  // namespace vx::nnunet
