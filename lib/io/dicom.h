// DICOM MR series -> Volume. GDCM parses the file (after our structural pre-check); the
// pixel module and the pixels are read here: uncompressed (little or big endian) and RLE
// Lossless; JPEG and JPEG-LS go to GDCM's codecs behind our checks, JPEG 2000 (.90, .91) to OpenJPEG
// directly (io/dicom_codec.h, io/dicom_j2k.h), lossy ones with a volume warning; Deflated Explicit VR
// Little Endian is inflated within a bound and checked before GDCM parses it (io/dicom_precheck.h).
// Transfer syntaxes read: implicit / explicit VR little endian, explicit big endian, deflated
// (1.2.840.10008.1.2.1.99), RLE (.5), JPEG baseline / extended / lossless (.4.50, .51, .57, .70),
// JPEG-LS (.80, .81), JPEG 2000 (.90, .91). Colour and 1-bit images are refused.
//
// Accepts:
//  - a folder (the files its DICOMDIR names when it has one, io/dicomdir.h, else walked
//    recursively within the bounds of io/dir_walk.h; files that are not DICOM are skipped,
//    pipes, sockets and devices never opened), or a DICOMDIR file, holding one series, or several with
//    a selector appended: DIR#series=UID, DIR#series-number=N, DIR#series-description=GLOB
//    (io/dicom_series.h; without one, several series are refused with their list);
//  - one enhanced multi-frame file (geometry from the shared / per-frame functional groups);
//  - a Siemens mosaic (unpacked into its slices: io/dicom_mosaic.h).
// Slices are sorted by ImagePositionPatient projected on the slice normal (row cosine x
// column cosine), never by file name or instance number.
// The slice positions must lie on a regular grid along the normal (io/slice_grid.h states
// the tolerance); uneven ones are refused or, when asked, resampled; sheared ones refused.
// Voxel (i, j, k) = (column, row, sorted slice); the affine maps it to RAS+ mm:
//   LPS = IPP_first + i * dx * rowcos + j * dy * colcos + k * (IPP_last - IPP_first) / (n - 1)
// (after resampling, k * median gap * normal)
// with (dy, dx) = PixelSpacing, then x and y negated (LPS -> RAS), as nibabel would give for
// the equivalent NIfTI. Rescale slope/intercept are applied per slice/frame. The header gets
// qform_code = sform_code = 1 (scanner) so a NIfTI write keeps the geometry.
#pragma once
#include <cstddef>
#include <string>

#include "image/volume.h"

namespace vx {

struct DicomReadOptions {
  size_t max_voxels = size_t(1) << 30;  // refuse larger series
  // Slices not on a regular grid (io/slice_grid.h): false = refused (corrupt_file, the gap
  // named); true = resampled onto a regular grid, with a sentence in header.warnings.
  bool resample_uneven_slices = false;
};

// Throws Error: io_error (missing path), corrupt_file (no DICOM files, unreadable pixels,
// duplicate slice positions, uneven slice positions, inconsistent geometry), unsupported (colour, 1-bit, transfer
// syntaxes not listed above, multi-frame without per-frame positions, sheared series), invalid_argument (several
// series in one folder and no selector, a selector that matches none or several), limit_exceeded.
Volume read_dicom(const std::string& path, const DicomReadOptions& opts = {});

}  // namespace vx
