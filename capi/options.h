// Reading versioned option structs: a caller compiled against an older (shorter) struct
// passes a smaller struct_size; fields beyond it keep their defaults.
#pragma once
#include <cstring>
#include <string>

#include "core/error.h"

namespace vx::capi {

// Copies the caller's struct into `out` (already holding defaults). `min_size` is the size
// of the first published version of the struct.
template <class T>
void read_options(const T* in, size_t min_size, T& out, const char* what) {
  if (!in) return;
  if (in->struct_size < min_size || in->struct_size > sizeof(T))
    fail(Status::invalid_argument, std::string(what) + ".struct_size is " + std::to_string(in->struct_size) +
                                       "; expected between " + std::to_string(min_size) + " and " +
                                       std::to_string(sizeof(T)) + " (set it to sizeof(" + what + "))");
  std::memcpy(static_cast<void*>(&out), in, in->struct_size);
  out.struct_size = sizeof(T);
}

}  // namespace vx::capi
