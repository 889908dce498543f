#include "pipeline/staging.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>

#include "core/error.h"

namespace fs = std::filesystem;

namespace vx::pipeline {

Staging::Staging(const std::string& out_dir) : out_(out_dir) {
  static std::atomic<int> counter{0};
  std::error_code ec;
  fs::create_directories(out_, ec);
  if (ec) fail(Status::io_error, "cannot create output folder " + out_ + ": " + ec.message());
  dir_ = (fs::path(out_) / (".voxinfer-partial-" + std::to_string(getpid()) + "-" + std::to_string(counter++))).string();
  fs::create_directory(dir_, ec);
  if (ec) fail(Status::io_error, "cannot write into " + out_ + ": " + ec.message());
}

Staging::~Staging() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string Staging::path(const std::string& name) {
  names_.push_back(name);
  return (fs::path(dir_) / name).string();
}

void Staging::write_text(const std::string& name, const std::string& text) {
  const std::string p = path(name);
  FILE* f = std::fopen(p.c_str(), "wb");
  if (!f) fail(Status::io_error, "cannot write " + p);
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) fail(Status::io_error, "cannot write " + p);
}

void Staging::commit() {
  for (const auto& n : names_) {
    std::error_code ec;
    fs::rename(fs::path(dir_) / n, fs::path(out_) / n, ec);
    if (ec) fail(Status::io_error, "cannot move " + n + " into " + out_ + ": " + ec.message());
  }
}

}  // namespace vx::pipeline
