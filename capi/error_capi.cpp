// The C boundary's error handling: thread-local last error, status names, versions.
#include <string>

#include "capi/guard.h"
#include "voxinfer/voxinfer.h"

static_assert(static_cast<int>(vx::Status::internal) == VX_ERR_INTERNAL, "vx::Status must mirror vx_status");
static_assert(static_cast<int>(vx::Status::cancelled) == VX_ERR_CANCELLED, "vx::Status must mirror vx_status");


namespace vx::capi {
static thread_local std::string g_last_error;
void set_last_error(const std::string& msg) { g_last_error = msg; }
void clear_last_error() { g_last_error.clear(); }
}  // namespace vx::capi

extern "C" {

VX_API const char* vx_version(void) {
  static const std::string v = std::to_string(VX_VERSION_MAJOR) + "." + std::to_string(VX_VERSION_MINOR) + "." +
                               std::to_string(VX_VERSION_PATCH);
  return v.c_str();
}

VX_API const char* vx_last_error(void) { return vx::capi::g_last_error.c_str(); }

VX_API const char* vx_status_name(vx_status s) {
  switch (s) {
    case VX_OK: return "VX_OK";
    case VX_ERR_INVALID_ARGUMENT: return "VX_ERR_INVALID_ARGUMENT";
    case VX_ERR_SHAPE_MISMATCH: return "VX_ERR_SHAPE_MISMATCH";
    case VX_ERR_IO: return "VX_ERR_IO";
    case VX_ERR_CORRUPT_FILE: return "VX_ERR_CORRUPT_FILE";
    case VX_ERR_UNSUPPORTED: return "VX_ERR_UNSUPPORTED";
    case VX_ERR_OUT_OF_MEMORY: return "VX_ERR_OUT_OF_MEMORY";
    case VX_ERR_CANCELLED: return "VX_ERR_CANCELLED";
    case VX_ERR_LIMIT_EXCEEDED: return "VX_ERR_LIMIT_EXCEEDED";
    case VX_ERR_BACKEND_UNAVAILABLE: return "VX_ERR_BACKEND_UNAVAILABLE";
    case VX_ERR_INTERNAL: return "VX_ERR_INTERNAL";
    case VX_ERR_BUSY: return "VX_ERR_BUSY";
    case VX_STATUS_MAX_ENUM: break;
  }
  return "VX_ERR_UNKNOWN";
}

}  // extern "C"
