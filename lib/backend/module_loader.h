// Opens a shared module that ships beside this library (the CUDA backend, the application
// library behind vx_exam_*), searched
//   1. in the folder of the library (or executable) that contains this code,
//   2. at $<env_var> (a full path), when env_var is not NULL,
//   3. by the dynamic loader's path (LD_LIBRARY_PATH, rpath, ld.so.cache).
#pragma once
#include <string>

#include "core/error.h"

namespace vx::backend {

// The folder of the ELF object holding this code, with a trailing '/'; "" if unknown.
std::string dir_of_this_library();

// dlopen()s `file_name` from the places above (RTLD_NOW | RTLD_LOCAL). On failure throws
// Error(status, failure_message + " Tried:" + each path and dlerror's reason).
void* open_module(const char* file_name, const char* env_var, Status status, const std::string& failure_message);

}  // namespace vx::backend
