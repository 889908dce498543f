#include "capi/options.h"

namespace vx::capi {

void check_struct_size(size_t size, const size_t* versions, size_t n, const char* what) {
  std::string known;
  for (size_t i = 0; i < n; ++i) {
    if (size == versions[i]) return;
    known += (i ? ", " : "") + std::to_string(versions[i]) + " (version " + std::to_string(i + 1) + ")";
  }
  fail(Status::invalid_argument, std::string(what) + ".struct_size is " + std::to_string(size) +
                                     "; this library knows " + known + " (initialise it with " + what +
                                     "_init, which sets it)");
}

}  // namespace vx::capi
