#include "ops/planes.h"

#include <cstring>

namespace vx {

int64_t plane_floats(const int64_t ext[3], int axis, kern::Layout layout) {
  int64_t n = layout == kern::Layout::blocked16 ? 16 : 1;
  for (int i = axis + 1; i < 3; ++i) n *= ext[i];
  return n;
}

int64_t channel_runs(int64_t channels, kern::Layout layout) {
  return layout == kern::Layout::blocked16 ? channels / 16 : channels;
}

void copy_planes(int64_t outer, int64_t count, int64_t row, const float* from, int64_t from_ext, int64_t from_x0,
                 float* to, int64_t to_ext, int64_t to_x0) {
  if (count <= 0) return;
  const size_t bytes = static_cast<size_t>(count * row) * sizeof(float);
#pragma omp parallel for schedule(static) if (outer * count * row > (int64_t{1} << 16))
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(to + (o * to_ext + to_x0) * row, from + (o * from_ext + from_x0) * row, bytes);
}

}  // namespace vx
