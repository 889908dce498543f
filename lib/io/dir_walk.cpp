#include "io/dir_walk.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <utility>

#include "core/error.h"

namespace vx {
namespace {

void walk(const std::string& dir, int depth, std::set<std::pair<dev_t, ino_t>>& seen, std::vector<std::string>& out) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !seen.insert({st.st_dev, st.st_ino}).second) return;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (depth == 0) fail(Status::io_error, "cannot list folder '" + dir + "'");
    return;
  }
  std::vector<std::string> subdirs;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;
    const std::string full = dir + "/" + name;
    if (::stat(full.c_str(), &st) != 0) continue;  // dangling link
    if (S_ISDIR(st.st_mode)) {
      subdirs.push_back(full);
    } else if (S_ISREG(st.st_mode)) {
      if (out.size() >= kMaxDirFiles) {
        ::closedir(d);
        fail(Status::limit_exceeded, "more than " + std::to_string(kMaxDirFiles) + " files under '" + dir + "'");
      }
      out.push_back(full);
    }
  }
  ::closedir(d);
  if (depth < kMaxDirDepth)
    for (const std::string& s : subdirs) walk(s, depth + 1, seen, out);
}

}  // namespace

bool is_regular_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::vector<std::string> regular_files_under(const std::string& dir) {
  std::set<std::pair<dev_t, ino_t>> seen;
  std::vector<std::string> out;
  walk(dir, 0, seen, out);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace vx
