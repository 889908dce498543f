// SHA-256 (FIPS 180-4), small and dependency-free: used to identify model files.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace vx {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  // Returns the digest as 64 lower-case hex characters; the object must not be updated after.
  std::string hex_digest();

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

// Lower-case hex SHA-256 of a byte range.
std::string sha256_hex(const void* data, size_t size);

}  // namespace vx
