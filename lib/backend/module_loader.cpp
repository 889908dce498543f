#include "backend/module_loader.h"

#include <dlfcn.h>

#include <cstdlib>

namespace vx::backend {

std::string dir_of_this_library() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&dir_of_this_library), &info) || !info.dli_fname) return "";
  std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

void* open_module(const char* file_name, const char* env_var, Status status, const std::string& failure_message) {
  std::string tried;
  auto attempt = [&](const std::string& path) -> void* {
    dlerror();
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = dlerror();
      tried += "\n  " + path + ": " + (e ? e : "not loadable");
    }
    return h;
  };
  const std::string dir = dir_of_this_library();
  if (!dir.empty())
    if (void* h = attempt(dir + file_name)) return h;
  if (const char* env = env_var ? std::getenv(env_var) : nullptr; env && *env)
    if (void* h = attempt(env)) return h;
  if (void* h = attempt(file_name)) return h;
  fail(status, failure_message + " Tried:" + tried);
}

}  // namespace vx::backend
