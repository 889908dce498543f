#include "io/volume_io.h"

#include <cctype>
#include <filesystem>

#include "io/dicom_series.h"
#include "io/nifti_pair.h"

namespace vx {

static bool ends_with_nocase(const std::string& s, const std::string& tail) {
  if (s.size() < tail.size()) return false;
  for (size_t i = 0; i < tail.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - tail.size() + i])) != tail[i]) return false;
  return true;
}

bool is_dicom_input(const std::string& path) {
  if (!split_series_selector(path).second.empty()) return true;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return true;
  return !(ends_with_nocase(path, ".nii") || ends_with_nocase(path, ".nii.gz") || is_nifti_pair_name(path));
}

Volume read_volume(const std::string& path, const NiftiReadOptions& nifti, const DicomReadOptions& dicom) {
  if (path.empty()) fail(Status::invalid_argument, "path is empty");
  if (!split_series_selector(path).second.empty()) return read_dicom(path, dicom);  // DIR#series=...
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) fail(Status::io_error, "cannot read '" + path + "': no such file or folder");
  if (std::filesystem::is_directory(st)) return read_dicom(path, dicom);
  if (ends_with_nocase(path, ".nii") || ends_with_nocase(path, ".nii.gz") || is_nifti_pair_name(path))
    return read_nifti(path, nifti);
  if (std::filesystem::is_regular_file(st)) return read_dicom(path, dicom);
  fail(Status::io_error, "'" + path + "' is neither a file nor a folder");
}

}  // namespace vx
