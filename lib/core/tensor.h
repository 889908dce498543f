// Tensor: a typed, strided view of 64-byte aligned storage, up to 5-D (N, C, D, H, W).
// Copies share storage; views (reshape, slice) never copy.
#pragma once
#include <cstdint>
#include <memory>

#include "core/error.h"
#include "shape.h"

namespace vx {

constexpr size_t kAlignment = 64;

// Raw aligned allocation; throws Error(out_of_memory) instead of std::bad_alloc.
std::shared_ptr<uint8_t> allocate_aligned(size_t bytes);

class Tensor {
 public:
  Tensor() = default;

  static Tensor empty(const Shape& shape, DType dtype = DType::f32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32);
  // A tensor over memory the caller owns and keeps alive (no copy, no free).
  static Tensor wrap(void* data, const Shape& shape, DType dtype = DType::f32);
  // A tensor over externally owned memory kept alive by `owner`.
  static Tensor wrap_shared(std::shared_ptr<uint8_t> owner, size_t offset_bytes, const Shape& shape,
                            DType dtype);

  bool defined() const { return base_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank; }
  int64_t dim(int i) const { return shape_[i]; }
  int64_t numel() const { return shape_.numel(); }
  DType dtype() const { return dtype_; }
  int64_t stride(int i) const { return strides_[i]; }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool is_contiguous() const;

  void* raw() { return base_ ? base_.get() + offset_ : nullptr; }
  const void* raw() const { return base_ ? base_.get() + offset_ : nullptr; }
  float* f32();
  const float* f32() const;

  // Same elements, new shape; requires a contiguous tensor.
  Tensor reshape(const Shape& shape) const;
  // Elements [start, start+length) along `axis`; a strided view.
  Tensor slice(int axis, int64_t start, int64_t length) const;
  // A contiguous copy (always a fresh allocation).
  Tensor clone() const;
  // Copies `src` (same shape and dtype, any strides) into this tensor.
  void copy_from(const Tensor& src);

 private:
  std::shared_ptr<uint8_t> base_;
  size_t offset_ = 0;  // bytes
  Shape shape_;
  std::array<int64_t, kMaxRank> strides_{};  // elements
  DType dtype_ = DType::f32;

  void set_contiguous_strides();
};

}  // namespace vx
