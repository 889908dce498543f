// The blocked16 layout (oneDNN's nCdhw16c, kernels/params.h) written out by the tests
// themselves, so a kernel's own reorder is never its oracle.
#pragma once
#include <cstdint>
#include <vector>

#include "params.h"

namespace vx::test {

// Plain [n, c, sp] data moved into layout `l`: [n][c/16][sp][16] for blocked16 (c % 16 == 0).
inline std::vector<float> to_layout(const std::vector<float>& v, int64_t n, int64_t c, int64_t sp, kern::Layout l) {
  if (l == kern::Layout::plain) return v;
  std::vector<float> b(v.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t s = 0; s < sp; ++s) b[((i * (c / 16) + ch / 16) * sp + s) * 16 + ch % 16] = v[(i * c + ch) * sp + s];
  return b;
}

}  // namespace vx::test
