// Packed (prepared) weights and their owner. A backend that rearranges convolution weights
// for its kernels (oneDNN's blocked layouts) keeps the result in a WeightPacks owned by
// whoever owns the weights: a model (shared by all its sessions) or, for a graph of its own,
// an executor. There is no process-wide cache: packed weights are freed with their owner,
// and an owner's weights never change while it lives (a model is immutable), so an entry
// keyed by the weights' address and the packed form cannot go stale.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace vx::kern {

// A backend's packed weights. Immutable once made; counted while alive (packed_weights_alive).
struct PackedWeights {
  PackedWeights();
  virtual ~PackedWeights();
  PackedWeights(const PackedWeights&) = delete;
  PackedWeights& operator=(const PackedWeights&) = delete;
};

// PackedWeights objects alive in the process, all owners together (leak checks in tests).
int64_t packed_weights_alive();

class WeightPacks {
 public:
  WeightPacks() = default;
  // Weights in [file_begin, file_begin + file_bytes) lie in a read-only file mapping: once a
  // backend has packed them it may give their pages back to the OS (clean file pages, read
  // back from the file if touched again), so they are resident once, not twice.
  WeightPacks(const void* file_begin, size_t file_bytes);
  WeightPacks(const WeightPacks&) = delete;
  WeightPacks& operator=(const WeightPacks&) = delete;

  // The packed weights under `key` (the backend's: weights address, bias address, packed
  // form); made by `make` the first time, under this owner's lock, so each key is packed
  // once however many sessions ask at once. `make` may throw: nothing is kept then.
  std::shared_ptr<const PackedWeights> get(const std::string& key,
                                           const std::function<std::shared_ptr<const PackedWeights>()>& make);
  size_t size() const;        // entries held
  int64_t packs_made() const;  // times `make` ran (a test counts packings with it)
  bool in_file(const void* p, size_t bytes = 1) const;
  // The file mapping's range (both NULL without one).
  const uint8_t* file_begin() const { return file_begin_; }
  const uint8_t* file_end() const { return file_end_; }

 private:
  const uint8_t* file_begin_ = nullptr;
  const uint8_t* file_end_ = nullptr;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const PackedWeights>> entries_;
  int64_t made_ = 0;
};

}  // namespace vx::kern
