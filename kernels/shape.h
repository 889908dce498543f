// The small, kernel-facing description of tensors: element types and shapes up to 8-D.
// Shared by lib/ and every kernel backend; depends on nothing else.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace vx {

// Tensors go up to rank 8 (issue 18: SwinUNETR's window partition reshapes and transposes at
// rank 8); compute ops, graph inputs and outputs (the C API's VX_MAX_RANK) stay at rank <= 5.
constexpr int kMaxRank = 8;
constexpr int kComputeMaxRank = 5;

// Append-only: values are stored in .vxm files.
enum class DType : int32_t { f32 = 1, f16 = 2, bf16 = 3, i8 = 4, u8 = 5, i16 = 6, u16 = 7, i32 = 8, i64 = 9, f64 = 10 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);

struct Shape {
  int rank = 0;
  std::array<int64_t, kMaxRank> dims{};

  Shape() = default;
  Shape(std::initializer_list<int64_t> d);
  static Shape from(const int64_t* d, int rank);

  int64_t operator[](int i) const { return dims[i]; }
  int64_t& operator[](int i) { return dims[i]; }
  int64_t numel() const;
  // Product of dims[from, to).
  int64_t prod(int from, int to) const;
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;
};

}  // namespace vx
