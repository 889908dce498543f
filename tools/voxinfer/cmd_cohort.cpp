// voxinfer cohort --manifest M.csv --out DIR [...]: the cohort runner is Python on Dask
// (bindings/python/voxinfer/cohort.py); this hands over to it with the library, the package
// and the shipped models found for it.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.h"
#include "core/error.h"
#include "pipeline/exam.h"

namespace fs = std::filesystem;

namespace vx::cli {

int cmd_cohort(int argc, char** argv) {
  std::error_code ec;
  const fs::path exe = fs::canonical("/proc/self/exe", ec);
  // Found relative to the executable, the same in the build tree and an install prefix
  // (CMake lays out both): <exe>/../share/voxinfer/python holds the package, the library is in
  // <exe>/../<libdir> (installed) or <exe>/.. (build tree).
  const fs::path root = ec ? fs::path("..") : exe.parent_path().parent_path();
  if (!std::getenv("VOXINFER_LIBRARY")) {
    for (const fs::path& lib : {root / VX_INSTALL_LIBDIR / "libvoxinfer.so.0", root / "libvoxinfer.so.0"})
      if (fs::exists(lib)) {
        setenv("VOXINFER_LIBRARY", lib.c_str(), 1);
        break;
      }
  }
  std::string pkg = (root / "share" / "voxinfer" / "python").string();
  if (const char* pp = std::getenv("PYTHONPATH")) pkg += std::string(":") + pp;
  setenv("PYTHONPATH", pkg.c_str(), 1);
  bool has_models = std::getenv("VOXINFER_MODELS") != nullptr;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    has_models |= a.rfind("--models", 0) == 0 || a == "--help" || a == "-h";
  }
  if (!has_models) setenv("VOXINFER_MODELS", pipeline::default_model_dir(ec ? argv[0] : exe.string()).c_str(), 1);

  const char* python = std::getenv("VOXINFER_PYTHON") ? std::getenv("VOXINFER_PYTHON") : "/usr/bin/python3";
  std::vector<char*> args{const_cast<char*>(python), const_cast<char*>("-m"), const_cast<char*>("voxinfer.cohort")};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  execv(python, args.data());
  fail(Status::io_error, std::string("cannot start ") + python + " (set VOXINFER_PYTHON): " + std::strerror(errno));
}

}  // namespace vx::cli
