// Versioned option structs (see the conventions at the top of voxinfer.h): the library
// writes and reads only the first struct_size bytes of a caller's struct, and struct_size
// must be the size of a version the library knows.
#pragma once
#include <cstring>
#include <string>

#include "capi/guard.h"
#include "core/error.h"

namespace vx::capi {

// Throws Error(invalid_argument) unless `size` is one of versions[0..n) (oldest first).
void check_struct_size(size_t size, const size_t* versions, size_t n, const char* what);

// The body of vx_X_options_init_sized: `defaults` for exactly `size` bytes of *out.
template <class T, size_t N>
void init_options(T* out, size_t size, const T& defaults, const size_t (&versions)[N], const char* what) {
  need(out, "options");
  check_struct_size(size, versions, N, what);
  std::memcpy(static_cast<void*>(out), &defaults, size);
  out->struct_size = size;
}

// The caller's options over `defaults`: its first struct_size bytes (NULL = the defaults).
template <class T, size_t N>
T read_options(const T* in, const T& defaults, const size_t (&versions)[N], const char* what) {
  T out = defaults;
  if (!in) return out;
  check_struct_size(in->struct_size, versions, N, what);
  std::memcpy(static_cast<void*>(&out), in, in->struct_size);
  out.struct_size = sizeof(T);
  return out;
}

}  // namespace vx::capi
