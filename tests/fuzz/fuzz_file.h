// Helper for fuzz targets whose reader takes a path: writes the input to a file in a
// private temporary folder (made once per process, removed at exit) and returns its path.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace vx_fuzz {

inline const std::string& temp_dir() {
  static const std::string dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/vx_fuzz_XXXXXX";
    if (!::mkdtemp(&tmpl[0])) std::abort();
    static std::string keep = tmpl;
    std::atexit([] {
      std::string cmd = "rm -rf '" + keep + "'";
      if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "cannot remove %s\n", keep.c_str());
    });
    return tmpl;
  }();
  return dir;
}

// Writes `size` bytes to temp_dir()/name; aborts if the file cannot be written (not a finding).
inline std::string write_file(const std::string& name, const uint8_t* data, size_t size) {
  std::string path = temp_dir() + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) std::abort();
  return path;
}

}  // namespace vx_fuzz
