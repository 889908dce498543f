#include <cuda_runtime.h>

#include <iterator>

#include "cuda/arena.cuh"

namespace vx::cuda {

Arena::~Arena() {
  for (void* c : chunks_) cudaFree(c);
}

void* Arena::alloc(size_t bytes, std::string& err) {
  const size_t size = (bytes ? bytes + kAlign - 1 : kAlign) / kAlign * kAlign;
  auto it = free_.begin();
  for (; it != free_.end() && it->second.size < size; ++it) {
  }
  if (it == free_.end()) {
    size_t chunk = size > kChunk ? size : kChunk;
    void* p = nullptr;
    if (cudaMalloc(&p, chunk) != cudaSuccess) {
      cudaGetLastError();
      chunk = size;  // a smaller, exact chunk may still fit
      if (cudaMalloc(&p, chunk) != cudaSuccess) {
        cudaGetLastError();
        err = "out of device memory: " + std::to_string(size) + " bytes wanted, " + std::to_string(in_use_) +
              " in use, " + std::to_string(reserved_) + " reserved";
        return nullptr;
      }
    }
    chunks_.push_back(p);
    reserved_ += chunk;
    it = free_.emplace(reinterpret_cast<uintptr_t>(p), Block{chunk, static_cast<int>(chunks_.size()) - 1}).first;
  }
  const uintptr_t addr = it->first;
  const Block b = it->second;
  free_.erase(it);
  if (b.size > size) free_.emplace(addr + size, Block{b.size - size, b.chunk});
  used_.emplace(addr, Block{size, b.chunk});
  in_use_ += size;
  if (in_use_ > peak_) peak_ = in_use_;
  return reinterpret_cast<void*>(addr);
}

void Arena::free(void* ptr) {
  if (!ptr) return;
  auto u = used_.find(reinterpret_cast<uintptr_t>(ptr));
  if (u == used_.end()) return;
  uintptr_t addr = u->first;
  Block b = u->second;
  used_.erase(u);
  in_use_ -= b.size;
  auto next = free_.lower_bound(addr);
  if (next != free_.end() && next->second.chunk == b.chunk && addr + b.size == next->first) {
    b.size += next->second.size;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->second.chunk == b.chunk && prev->first + prev->second.size == addr) {
      prev->second.size += b.size;
      return;
    }
  }
  free_.emplace(addr, b);
}

}  // namespace vx::cuda
