// Device arena: memory is taken from the device in large chunks (cudaMalloc rarely, never
// per tensor) and sub-allocated first-fit with coalescing. Freed blocks return to the arena,
// not to the device, until the context is destroyed. All users are on one stream, so a
// block freed while a kernel still reads it is only reused by work queued after that kernel.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vx::cuda {

class Arena {
 public:
  static constexpr size_t kAlign = 256;
  static constexpr size_t kChunk = size_t(256) << 20;  // the smallest cudaMalloc

  ~Arena();
  // NULL with `err` set when the device is out of memory.
  void* alloc(size_t bytes, std::string& err);
  void free(void* ptr);
  size_t reserved() const { return reserved_; }
  size_t in_use() const { return in_use_; }
  size_t peak() const { return peak_; }

 private:
  struct Block {
    size_t size;
    int chunk;
  };
  std::vector<void*> chunks_;
  std::map<uintptr_t, Block> free_;  // by address
  std::map<uintptr_t, Block> used_;
  size_t reserved_ = 0, in_use_ = 0, peak_ = 0;
};

}  // namespace vx::cuda
