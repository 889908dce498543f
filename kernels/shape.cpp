#include "shape.h"

namespace vx {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: case DType::i32: return 4;
    case DType::f16: case DType::bf16: case DType::i16: case DType::u16: return 2;
    case DType::i8: case DType::u8: return 1;
    case DType::i64: case DType::f64: return 8;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
    case DType::i8: return "i8";
    case DType::u8: return "u8";
    case DType::i16: return "i16";
    case DType::u16: return "u16";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::f64: return "f64";
  }
  return "?";
}

Shape::Shape(std::initializer_list<int64_t> d) {
  for (int64_t v : d) {
    if (rank < kMaxRank) dims[rank] = v;
    ++rank;
  }
  if (rank > kMaxRank) rank = kMaxRank;  // callers validate rank before use
}

Shape Shape::from(const int64_t* d, int r) {
  Shape s;
  s.rank = r;
  for (int i = 0; i < r; ++i) s.dims[i] = d[i];
  return s;
}

int64_t Shape::numel() const { return prod(0, rank); }

int64_t Shape::prod(int from, int to) const {
  int64_t p = 1;
  for (int i = from; i < to; ++i) p *= dims[i];
  return p;
}

bool Shape::operator==(const Shape& o) const {
  if (rank != o.rank) return false;
  for (int i = 0; i < rank; ++i)
    if (dims[i] != o.dims[i]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) {
    if (i) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

}  // namespace vx
