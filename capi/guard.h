// Wraps the body of every exported function: C++ exceptions never cross the C boundary;
// they become a vx_status plus the thread-local last-error message.
#pragma once
#include <new>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "voxinfer/voxinfer.h"

namespace vx::capi {

void set_last_error(const std::string& msg);
void clear_last_error();

// A handle already in use on another thread (VX_ERR_BUSY). Only C handles can be busy, so
// the engine's vx::Status has no such value.
struct BusyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class F>
vx_status guarded(F&& body) {
  clear_last_error();
  try {
    body();
    return VX_OK;
  } catch (const BusyError& e) {
    set_last_error(e.what());
    return VX_ERR_BUSY;
  } catch (const vx::Error& e) {
    set_last_error(e.what());
    return static_cast<vx_status>(e.status());
  } catch (const std::bad_alloc&) {
    set_last_error("out of memory");
    return VX_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_last_error(std::string("internal error: ") + e.what());
    return VX_ERR_INTERNAL;
  } catch (...) {
    set_last_error("internal error: unknown exception");
    return VX_ERR_INTERNAL;
  }
}

// Rejects a NULL pointer argument with a message naming it.
inline void need(const void* p, const char* name) {
  if (!p) vx::fail(vx::Status::invalid_argument, std::string(name) + " is NULL");
}

}  // namespace vx::capi
