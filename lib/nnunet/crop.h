// nnU-Net's crop_to_nonzero (preprocessing/cropping/cropping.py) and its reversal: the union of
// the channels' non-zero voxels with holes filled (scipy binary_fill_holes: background not
// face-connected to the border), its bounding box [start, end), and pasting back into zeros.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace vx::nnunet {

using Dims = std::array<int64_t, 3>;

struct Box {
  Dims start, end;
  Dims size() const { return {end[0] - start[0], end[1] - start[1], end[2] - start[2]}; }
};

// channels: C pointers to [D, H, W] float32 volumes. 1 = inside.
std::vector<uint8_t> nonzero_mask(const std::vector<const float*>& channels, const Dims& dims);
// The whole extent on an axis with nothing set (nnU-Net's bounding_box_to_slice on an empty mask).
Box bbox_from_mask(const std::vector<uint8_t>& mask, const Dims& dims);

template <typename T>
std::vector<T> crop(const T* vol, const Dims& dims, const Box& b) {
  const Dims s = b.size();
  std::vector<T> out(size_t(s[0] * s[1] * s[2]));
  for (int64_t i = 0; i < s[0]; ++i)
    for (int64_t j = 0; j < s[1]; ++j)
      for (int64_t k = 0; k < s[2]; ++k)
        out[size_t((i * s[1] + j) * s[2] + k)] =
            vol[((b.start[0] + i) * dims[1] + b.start[1] + j) * dims[2] + b.start[2] + k];
  return out;
}

// Crop pasted into zeros of dims.
template <typename T>
std::vector<T> paste(const T* cropped, const Dims& dims, const Box& b) {
  const Dims s = b.size();
  std::vector<T> out(size_t(dims[0] * dims[1] * dims[2]), T(0));
  for (int64_t i = 0; i < s[0]; ++i)
    for (int64_t j = 0; j < s[1]; ++j)
      for (int64_t k = 0; k < s[2]; ++k)
        out[size_t(((b.start[0] + i) * dims[1] + b.start[1] + j) * dims[2] + b.start[2] + k)] =
            cropped[(i * s[1] + j) * s[2] + k];
  return out;
}

}  // namespace vx::nnunet
