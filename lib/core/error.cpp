#include "core/error.h"

namespace vx {
void fail(Status status, const std::string& message) { throw Error(status, message); }
}  // namespace vx
