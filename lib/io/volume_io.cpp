#include "io/volume_io.h"

#include <filesystem>

#include "io/dicom.h"
#include "io/nifti.h"

namespace vx {

static bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

Volume read_volume(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return read_dicom(path);
  if (!std::filesystem::exists(path, ec)) fail(Status::io_error, "no such file or folder: " + path);
  if (ends_with(path, ".nii") || ends_with(path, ".nii.gz")) return read_nifti(path);
  if (ends_with(path, ".dcm") || ends_with(path, ".dicom") || std::filesystem::path(path).extension().empty())
    return read_dicom(path);
  return read_nifti(path);
}

}  // namespace vx
