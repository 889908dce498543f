// An RGB rendering of a volume (e.g. a Grad-CAM map blended on its scan) as DICOM Secondary
// Capture images, one per slice, for a PACS to show beside the series it was computed on.
//
// Why one single-frame SC image (SOP class 1.2.840.10008.5.1.4.1.1.7) per slice rather than one
// Multi-frame True Color SC: the multi-frame IOD has no place for a position per frame, while a
// single-frame image can carry its slice's image plane (ImagePositionPatient,
// ImageOrientationPatient, PixelSpacing, SliceThickness (the source's), SpacingBetweenSlices,
// FrameOfReferenceUID; standard extended
// attributes for this IOD), so a viewer sorts and places the slices as it does the scan's.
// Each image: RGB, 8 bits per sample, PlanarConfiguration 0 (R, G, B interleaved), Rows x
// Columns = the slice's (rows along the volume's j axis, columns along i); InstanceNumber = slice
// number (1 = the first along the normal); SourceImageSequence names the source image at that
// slice (io/dicom_source.h source_images_per_slice: the two around a resampled slice); ConversionType WSD; ImageType DERIVED\SECONDARY. Study, patient and
// frame of reference are the source's; one new SeriesInstanceUID for all, new SOP Instance UIDs.
// Files: DIR/IM_0001.dcm ... (4 digits, more when needed).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "image/volume.h"
#include "io/dicom_source.h"

namespace vx {

struct DicomScOptions {
  std::string series_description = "voxinfer overlay";
  int series_number = 0;  // 0: the source's SeriesNumber + 2000 (2000 when it has none)
  std::string derivation_description;  // DerivationDescription, e.g. how the overlay was made
  std::string software_version;
};

struct DicomScResult {
  std::string series_instance_uid;
  std::vector<std::string> files;  // names inside the folder
};

// rgb: [nz][ny][nx][3] bytes on `reference`'s grid (the volume read_dicom made of the series `src`
// describes). Writes the folder `dir` atomically: the images go into a temporary folder beside
// it, renamed to `dir` at the end; on failure nothing is left. Throws Error: invalid_argument
// (`rgb` of the wrong size), io_error (`dir` exists or cannot be written).
DicomScResult write_dicom_sc_series(const std::string& dir, const std::vector<uint8_t>& rgb, const Volume& reference,
                                    const DicomSource& src, const DicomScOptions& options = {});

}  // namespace vx
