// NIfTI-1 / NIfTI-2 reading and writing (.nii, .nii.gz) on top of nifti_clib; reading also takes
// .hdr/.img pairs (NIfTI 'ni1'/'ni2' and Analyze 7.5, io/nifti_pair.h).
//
// Reading: uint8/int8/int16/uint16/int32/uint32/float32/float64 -> float32, with
// scl_slope/scl_inter applied as nibabel does (slope 0 or non-finite = no scaling; a valid slope
// with a NaN/Inf intercept is refused, as nibabel refuses it). The
// affine is nibabel's img.affine (sform if sform_code > 0, else qform if qform_code > 0,
// else the pixdim fallback centred on the volume with x flipped). Header extensions, any
// vox_offset and big-endian files are handled by nifti_clib.
// Before nifti_clib allocates anything the header is read and checked here: rank 3 (or
// higher with all extra dimensions 1), positive dims, a supported datatype, positive finite
// spacing, and stored bytes that fit the file (uncompressed) or max_bytes (.gz, where the
// decompressed size is unknown until read). Failures throw vx::Error with the file name.
//
// Writing: float32, the volume's geometry (qform/sform and their codes, kept in step with
// the affine by lib/image), written to a temporary file in the destination directory and
// renamed into place, so a failure never leaves a partial file behind.
#pragma once
#include <cstddef>
#include <string>

#include "image/volume.h"

namespace vx {

enum class NonFinitePolicy { error, replace_with_zero };

struct NiftiReadOptions {
  // Largest voxel payload accepted, stored and as float32 (guards .gz decompression).
  size_t max_bytes = size_t(2) << 30;
  NonFinitePolicy non_finite = NonFinitePolicy::error;
};

struct NiftiWriteOptions {
  int nifti_version = 0;  // 1 or 2; 0 = as the volume's header says
  // Stored type: 16 (float32, default), 2 (uint8) or 512 (uint16); integer types store the values
  // rounded, and a value outside the type's range is an Error(invalid_argument).
  int datatype = 16;
  // Frames along the 4th axis: vol.data then holds [frames * nz, ny, nx] (frame-major, e.g.
  // per-class probabilities); 1 = a 3-D file.
  int64_t frames = 1;
};

// Throws Error: io_error (cannot open/read), corrupt_file (bad header, truncated data,
// non-finite voxels), unsupported (datatype, 4-D data), limit_exceeded (over max_bytes).
Volume read_nifti(const std::string& path, const NiftiReadOptions& opts = {});

// `path` must end in .nii or .nii.gz. Throws Error(invalid_argument) for a bad volume or
// name, Error(io_error) when writing fails; the destination is then left untouched.
void write_nifti(const std::string& path, const Volume& vol, const NiftiWriteOptions& opts = {});

}  // namespace vx
