// Output buffers of a session, recycled. A run's outputs belong to the caller; when the caller
// releases one, its memory comes back here and the next run of the same shapes writes into
// pages already mapped. A fresh large buffer costs a page fault per 4 KiB on first touch
// (the first U-Net layer's 268 MB output: ~60 ms, more than its convolution), and every run
// paid it. Holds at most `max_blocks` released buffers (one spare set of outputs), each at
// least kPooledFrom bytes; smaller ones are freed at once (malloc recycles them anyway).
// Buffers released after the pool is gone are freed. Thread-safe: a caller may release an
// output on any thread.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace vx {

class OutputPool : public std::enable_shared_from_this<OutputPool> {
 public:
  static constexpr size_t kPooledFrom = size_t{1} << 20;

  explicit OutputPool(size_t max_blocks) : max_blocks_(std::max<size_t>(1, max_blocks)) {}
  ~OutputPool();
  OutputPool(const OutputPool&) = delete;
  OutputPool& operator=(const OutputPool&) = delete;

  // 64-byte aligned memory of `bytes` bytes: a released buffer of the same size, or a new one.
  std::shared_ptr<uint8_t> take(size_t bytes);
  size_t pooled() const;  // buffers waiting to be reused

 private:
  void give_back(uint8_t* p, size_t rounded);

  const size_t max_blocks_;
  mutable std::mutex mu_;
  std::vector<std::pair<size_t, uint8_t*>> free_;  // (rounded bytes, buffer), oldest first
};

}  // namespace vx
