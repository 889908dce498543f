#include "core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace vx {

std::shared_ptr<uint8_t> allocate_aligned(size_t bytes) {
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded == 0) rounded = kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (!p) fail(Status::out_of_memory, "cannot allocate " + std::to_string(bytes) + " bytes");
  return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(p), [](uint8_t* q) { std::free(q); });
}

static void check_shape(const Shape& shape) {
  require(shape.rank >= 0 && shape.rank <= kMaxRank, Status::invalid_argument,
          "tensor rank must be between 0 and 8 (kMaxRank)");
  for (int i = 0; i < shape.rank; ++i)
    if (shape[i] < 0) fail(Status::invalid_argument, "negative tensor dimension in " + shape.str());
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  check_shape(shape);
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.base_ = allocate_aligned(static_cast<size_t>(shape.numel()) * dtype_size(dtype));
  t.set_contiguous_strides();
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw(), 0, t.nbytes());
  return t;
}

Tensor Tensor::wrap(void* data, const Shape& shape, DType dtype) {
  return wrap_shared(std::shared_ptr<uint8_t>(static_cast<uint8_t*>(data), [](uint8_t*) {}), 0, shape,
                     dtype);
}

Tensor Tensor::wrap_shared(std::shared_ptr<uint8_t> owner, size_t offset_bytes, const Shape& shape,
                           DType dtype) {
  check_shape(shape);
  require(owner != nullptr, Status::invalid_argument, "tensor data pointer is NULL");
  Tensor t;
  t.base_ = std::move(owner);
  t.offset_ = offset_bytes;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.set_contiguous_strides();
  return t;
}

void Tensor::set_contiguous_strides() {
  int64_t s = 1;
  for (int i = shape_.rank - 1; i >= 0; --i) {
    strides_[i] = s;
    s *= shape_[i];
  }
}

bool Tensor::is_contiguous() const {
  int64_t s = 1;
  for (int i = shape_.rank - 1; i >= 0; --i) {
    if (shape_[i] != 1 && strides_[i] != s) return false;
    s *= shape_[i];
  }
  return true;
}

float* Tensor::f32() {
  require(dtype_ == DType::f32, Status::invalid_argument, "tensor is not float32");
  return static_cast<float*>(raw());
}

const float* Tensor::f32() const {
  require(dtype_ == DType::f32, Status::invalid_argument, "tensor is not float32");
  return static_cast<const float*>(raw());
}

Tensor Tensor::reshape(const Shape& shape) const {
  check_shape(shape);
  require(is_contiguous(), Status::invalid_argument, "reshape needs a contiguous tensor");
  if (shape.numel() != numel())
    fail(Status::shape_mismatch, "cannot reshape " + shape_.str() + " to " + shape.str());
  Tensor t = *this;
  t.shape_ = shape;
  t.set_contiguous_strides();
  return t;
}

Tensor Tensor::slice(int axis, int64_t start, int64_t length) const {
  require(axis >= 0 && axis < rank(), Status::invalid_argument, "slice axis out of range");
  if (start < 0 || length < 0 || start + length > shape_[axis])
    fail(Status::invalid_argument, "slice [" + std::to_string(start) + ", +" + std::to_string(length) +
                                       ") outside axis of size " + std::to_string(shape_[axis]));
  Tensor t = *this;
  t.offset_ += static_cast<size_t>(start * strides_[axis]) * dtype_size(dtype_);
  t.shape_[axis] = length;
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, dtype_);
  t.copy_from(*this);
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  if (src.shape_ != shape_ || src.dtype_ != dtype_)
    fail(Status::shape_mismatch, "copy from " + src.shape_.str() + " into " + shape_.str());
  const size_t es = dtype_size(dtype_);
  if (is_contiguous() && src.is_contiguous()) {
    std::memmove(raw(), src.raw(), nbytes());
    return;
  }
  // Generic strided copy over any rank: an odometer over the indices.
  if (numel() == 0) return;
  const uint8_t* s = static_cast<const uint8_t*>(src.raw());
  uint8_t* o = static_cast<uint8_t*>(raw());
  int64_t idx[kMaxRank] = {};
  const int r = rank();
  for (;;) {
    int64_t si = 0, di = 0;
    for (int i = 0; i < r; ++i) {
      si += idx[i] * src.strides_[i];
      di += idx[i] * strides_[i];
    }
    std::memcpy(o + di * es, s + si * es, es);
    int i = r - 1;
    for (; i >= 0; --i) {
      if (++idx[i] < shape_[i]) break;
      idx[i] = 0;
    }
    if (i < 0) return;
  }
}

}  // namespace vx
