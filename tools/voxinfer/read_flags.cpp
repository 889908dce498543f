#include "read_flags.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace vx::cli {

std::vector<OptionSpec> with_read_flags(std::vector<OptionSpec> options) {
  options.push_back({"resample-uneven-slices", nullptr,
                     "a DICOM series with a missing slice or changing gaps is resampled onto a regular\n"
                     "                        grid in world space, with a warning (default: refused, naming the gap)"});
  options.push_back({"replace-non-finite", nullptr, "NaN/Inf voxels become 0 (default: refused)"});
  return options;
}

VolumeReadOptions read_options(const Args& args) {
  VolumeReadOptions o;
  o.dicom.resample_uneven_slices = args.flag("resample-uneven-slices");
  if (args.flag("replace-non-finite")) o.nifti.non_finite = NonFinitePolicy::replace_with_zero;
  return o;
}

static void warn(const char* command, const std::string& w) { std::fprintf(stderr, "voxinfer %s: warning: %s\n", command, w.c_str()); }

Volume read_input(const std::string& path, const VolumeReadOptions& options, const char* command) {
  Volume v = read_volume(path, options);
  for (const std::string& w : v.header.warnings) warn(command, w);
  return v;
}

void print_input_warnings(const nlohmann::json& report, const char* command) {
  if (!report.contains("inputs")) return;
  for (const auto& in : report["inputs"])
    if (in.contains("warnings"))
      for (const auto& w : in["warnings"]) warn(command, w.get<std::string>());
}

}  // namespace vx::cli
