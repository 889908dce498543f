// Engine-internal error type. Everything below capi/ reports failure by throwing
// vx::Error; capi/ turns it into a vx_status and the thread-local last-error text.
#pragma once
#include <stdexcept>
#include <string>

namespace vx {

// Mirrors the public vx_status values (capi/ static_asserts the match).
enum class Status : int {
  ok = 0,
  invalid_argument = 1,
  shape_mismatch = 2,
  io_error = 3,
  corrupt_file = 4,
  unsupported = 5,
  out_of_memory = 6,
  cancelled = 7,
  limit_exceeded = 8,
  backend_unavailable = 9,
  internal = 10,
};

class Error : public std::runtime_error {
 public:
  Error(Status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  Status status() const { return status_; }

 private:
  Status status_;
};

// Throws vx::Error(status, message) when cond is false. A function, not a macro,
// so the message expression is only built by the caller when needed.
[[noreturn]] void fail(Status status, const std::string& message);
inline void require(bool cond, Status status, const char* message) {
  if (!cond) fail(status, message);
}

}  // namespace vx
