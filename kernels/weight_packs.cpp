#include "weight_packs.h"

namespace vx::kern {

namespace {
std::atomic<int64_t> g_alive{0};  // instrumentation only: no lookup goes through it
}

PackedWeights::PackedWeights() { g_alive.fetch_add(1); }
PackedWeights::~PackedWeights() { g_alive.fetch_sub(1); }
int64_t packed_weights_alive() { return g_alive.load(); }

WeightPacks::WeightPacks(const void* file_begin, size_t file_bytes)
    : file_begin_(static_cast<const uint8_t*>(file_begin)), file_end_(file_begin_ ? file_begin_ + file_bytes : nullptr) {}

std::shared_ptr<const PackedWeights> WeightPacks::get(
    const std::string& key, const std::function<std::shared_ptr<const PackedWeights>()>& make) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(key);
  if (it != entries_.end()) return it->second;
  std::shared_ptr<const PackedWeights> w = make();
  ++made_;
  return entries_.emplace(key, std::move(w)).first->second;
}

size_t WeightPacks::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

int64_t WeightPacks::packs_made() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return made_;
}

bool WeightPacks::in_file(const void* p, size_t bytes) const {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  return file_begin_ && b >= file_begin_ && b + bytes <= file_end_;
}

}  // namespace vx::kern
