// Reads a scan from whatever the path is: a DICOM folder or file, or a NIfTI file.
#pragma once
#include <string>

#include "image/volume.h"
#include "io/dicom.h"
#include "io/nifti.h"

namespace vx {

// A folder, or a folder with a series selector (DIR#series=UID, io/dicom_series.h) -> read_dicom
// (one series); a name ending in .nii, .nii.gz, .hdr or .img (any case) ->
// read_nifti;
// any other regular file -> read_dicom (an enhanced multi-frame or extension-less DICOM file).
// Throws Error(io_error) for a missing path or one that is neither file nor folder.
Volume read_volume(const std::string& path, const NiftiReadOptions& nifti = {}, const DicomReadOptions& dicom = {});

// True when read_volume reads `path` as DICOM (a folder, DIR#selector, or a file whose name does
// not end in .nii, .nii.gz, .hdr or .img); it looks only at the name and whether it is a folder.
bool is_dicom_input(const std::string& path);

// Both readers' options, as the pipelines and the CLI pass them on.
struct VolumeReadOptions {
  NiftiReadOptions nifti;
  DicomReadOptions dicom;
};
inline Volume read_volume(const std::string& path, const VolumeReadOptions& o) { return read_volume(path, o.nifti, o.dicom); }

}  // namespace vx
