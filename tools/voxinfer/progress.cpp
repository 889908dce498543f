#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace vx::cli {

Progress::Progress(bool quiet) : quiet_(quiet), tty_(isatty(STDERR_FILENO) != 0) {}
Progress::~Progress() { finish(); }

bool Progress::update(const std::string& stage, int64_t done, int64_t total) {
  if (quiet_) return false;
  const bool new_stage = stage != stage_;
  if (!tty_) {
    if (new_stage) std::fprintf(stderr, "voxinfer: %s\n", stage.c_str());
    stage_ = stage;
    return false;
  }
  const auto now = std::chrono::steady_clock::now();
  if (!new_stage && done != total && now - last_draw_ < std::chrono::milliseconds(100)) return false;
  last_draw_ = now;
  if (new_stage && open_line_) std::fputc('\n', stderr);
  stage_ = stage;
  const int width = 30;
  const int filled = total > 0 ? static_cast<int>(width * done / total) : width;
  std::fprintf(stderr, "\r%-28.28s [%.*s%*s] %lld/%lld", stage.c_str(), filled, "##############################",
               width - filled, "", static_cast<long long>(done), static_cast<long long>(total));
  open_line_ = true;
  std::fflush(stderr);
  return false;
}

void Progress::finish() {
  if (open_line_) std::fputc('\n', stderr);
  open_line_ = false;
}

}  // namespace vx::cli
