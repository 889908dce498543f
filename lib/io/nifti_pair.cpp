#include "io/nifti_pair.h"

#include <cctype>

namespace vx {
namespace {

// The name's last four characters, lower-cased ("" when shorter).
std::string tail4(const std::string& p) {
  if (p.size() < 4) return "";
  std::string t = p.substr(p.size() - 4);
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t;
}

// Same stem, other extension, in the case the given one was written in.
std::string swap_ext(const std::string& p, const char* lower, const char* upper) {
  const bool up = std::isupper(static_cast<unsigned char>(p.back())) != 0;
  return p.substr(0, p.size() - 3) + (up ? upper : lower);
}

}  // namespace

bool is_nifti_pair_name(const std::string& path) {
  const std::string t = tail4(path);
  return t == ".hdr" || t == ".img";
}

NiftiFiles nifti_files(const std::string& path) {
  NiftiFiles f{path, path, false};
  const std::string t = tail4(path);
  if (t == ".hdr") f = {path, swap_ext(path, "img", "IMG"), true};
  if (t == ".img") f = {swap_ext(path, "hdr", "HDR"), path, true};
  return f;
}

}  // namespace vx
