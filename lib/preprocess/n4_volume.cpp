#include "preprocess/n4_volume.h"

#include <cstring>

namespace vx::preprocess {

namespace {

Tensor tensor_of(const std::vector<float>& values, const Shape& shape) {
  Tensor t = Tensor::empty(shape);
  std::memcpy(t.f32(), values.data(), values.size() * sizeof(float));
  return t;
}

}  // namespace

N4VolumeResult n4_volume(const Volume& src, const N4Options& options, bool otsu) {
  validate_volume(src);
  const Tensor data = src.data.is_contiguous() ? src.data : src.data.clone();
  const auto sp = spacing(src);  // i, j, k
  std::vector<uint8_t> mask;
  if (otsu) mask = otsu_mask(data.f32(), data.numel());
  N4Result r = n4_bias_correct(data.f32(), {src.nz(), src.ny(), src.nx()}, {sp[2], sp[1], sp[0]},
                               otsu ? mask.data() : nullptr, options);
  N4VolumeResult out;
  out.corrected = volume_like(src, tensor_of(r.corrected, data.shape()));
  out.bias = volume_like(src, tensor_of(r.bias_field, data.shape()));
  out.degenerate = r.degenerate;
  return out;
}

}  // namespace vx::preprocess
