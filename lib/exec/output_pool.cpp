#include "exec/output_pool.h"

#include <cstdlib>
#include <string>

#include "core/error.h"
#include "core/tensor.h"

namespace vx {

OutputPool::~OutputPool() {
  for (auto& b : free_) std::free(b.second);
}

std::shared_ptr<uint8_t> OutputPool::take(size_t bytes) {
  if (bytes < kPooledFrom) return allocate_aligned(bytes);
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  uint8_t* p = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if (it->first == rounded) {
        p = it->second;
        free_.erase(it);
        break;
      }
  }
  if (!p) p = static_cast<uint8_t*>(std::aligned_alloc(kAlignment, rounded));
  if (!p) fail(Status::out_of_memory, "cannot allocate " + std::to_string(bytes) + " bytes");
  std::weak_ptr<OutputPool> pool = weak_from_this();
  return std::shared_ptr<uint8_t>(p, [pool, rounded](uint8_t* q) {
    if (auto live = pool.lock())
      live->give_back(q, rounded);
    else
      std::free(q);
  });
}

void OutputPool::give_back(uint8_t* p, size_t rounded) {
  uint8_t* evicted = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() >= max_blocks_) {  // a buffer of shapes no longer run, most likely
      evicted = free_.front().second;
      free_.erase(free_.begin());
    }
    free_.emplace_back(rounded, p);
  }
  std::free(evicted);
}

size_t OutputPool::pooled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_.size();
}

}  // namespace vx
