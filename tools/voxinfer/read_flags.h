// The flags of every command that reads scans: how uneven DICOM slices and NaN/Inf voxels
// are treated. Reading through read_input prints the reader's warnings on stderr.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "args.h"
#include "io/volume_io.h"

namespace vx::cli {

// A command's options plus the read flags (with their help), for its CommandSpec.
std::vector<OptionSpec> with_read_flags(std::vector<OptionSpec> options);

// --resample-uneven-slices: a DICOM series off a regular grid is resampled (with a warning)
// instead of refused. --replace-non-finite: NaN/Inf voxels become 0 instead of an error.
VolumeReadOptions read_options(const Args& args);

// read_volume, then each warning of the volume on stderr as "voxinfer COMMAND: warning: ...".
Volume read_input(const std::string& path, const VolumeReadOptions& options, const char* command);

// The warnings of a report's "inputs" entries, on stderr.
void print_input_warnings(const nlohmann::json& report, const char* command);

}  // namespace vx::cli
