// Progress on stderr: a redrawn bar on a terminal, one line per stage otherwise (logs).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace vx::cli {

class Progress {
 public:
  explicit Progress(bool quiet = false);
  ~Progress();
  // Reports `done` of `total` steps of `stage`; never cancels (returns false).
  bool update(const std::string& stage, int64_t done, int64_t total);
  void finish();

 private:
  bool quiet_, tty_;
  std::string stage_;
  bool open_line_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace vx::cli
