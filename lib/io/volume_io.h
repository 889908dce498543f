// Reads a scan from whatever the path is: a DICOM folder or file, or a NIfTI file.
#pragma once
#include <string>

#include "image/volume.h"

namespace vx {

// A directory or a *.dcm / *.dicom / extension-less DICOM file -> read_dicom; anything else -> read_nifti.
Volume read_volume(const std::string& path);

}  // namespace vx
