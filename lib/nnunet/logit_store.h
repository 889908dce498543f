// [heads, voxels] logits as nnU-Net holds them: float16 where it accumulates in torch.half (the
// default), so they take 2 bytes a value instead of 4, or float32. Values are read and written as
// float; writing to a float16 store rounds to the nearest float16 (ties to even), exactly the
// rounding torch applies after every half-precision add.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "nnunet/half.h"

namespace vx::nnunet {

class LogitStore {
 public:
  LogitStore() = default;
  LogitStore(size_t size, bool half) : half_(half) {
    if (half) h_.assign(size, 0);
    else f_.assign(size, 0.0f);
  }
  // A float32 store holding `values` (tests and callers with float logits).
  static LogitStore of(std::vector<float> values) {
    LogitStore s;
    s.f_ = std::move(values);
    return s;
  }

  bool half() const { return half_; }
  size_t size() const { return half_ ? h_.size() : f_.size(); }
  bool empty() const { return size() == 0; }
  float get(size_t i) const { return half_ ? half_bits_to_float(h_[i]) : f_[i]; }
  void set(size_t i, float v) {
    if (half_) h_[i] = float_to_half_bits(v);
    else f_[i] = v;
  }
  // Keeps the first n values (no reallocation: a copy would hold both buffers at once).
  void truncate(size_t n) {
    if (half_) h_.resize(n);
    else f_.resize(n);
  }
  void release() { std::vector<uint16_t>().swap(h_), std::vector<float>().swap(f_); }
  std::vector<float> to_floats() const {
    if (!half_) return f_;
    std::vector<float> out(h_.size());
    for (size_t i = 0; i < h_.size(); ++i) out[i] = half_bits_to_float(h_[i]);
    return out;
  }
  static size_t bytes_per_value(bool half) { return half ? sizeof(uint16_t) : sizeof(float); }

 private:
  bool half_ = false;
  std::vector<uint16_t> h_;
  std::vector<float> f_;
};

}  // namespace vx::nnunet
