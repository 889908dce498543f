// A label mask as a DICOM Segmentation (SOP class 1.2.840.10008.5.1.4.1.1.66.4, BINARY), for
// a PACS to show over the series it was computed on.
//
// Layout: one segment per label (SegmentSequence; label value v = SegmentNumber v), and for
// every segment one frame per slice of the source grid, empty ones included (frames ordered by
// segment, then slice along the normal; DimensionIndexValues = [SegmentNumber, slice number]).
// Shared functional groups: PixelMeasures (PixelSpacing, SpacingBetweenSlices = the grid's slice
// spacing, SliceThickness = the source's, else the spacing) and PlaneOrientation (the source's direction cosines). Per frame:
// PlanePosition (the slice's ImagePositionPatient), FrameContent, SegmentIdentification and
// DerivationImage naming the source image (and frame) at that slice (io/dicom_source.h
// source_images_per_slice: for a slice the reader resampled from uneven ones, the two images
// around it; for a mosaic, the mosaic image). ReferencedSeriesSequence lists every
// source image. Study, patient and FrameOfReferenceUID are the source's; Series and SOP Instance
// UIDs are new (GDCM's UID generator). Pixels: 1 bit per pixel, packed LSB first, frames back to
// back without padding (PS3.5 8.1.1), the whole value padded to an even length.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "image/volume.h"
#include "io/dicom_source.h"

namespace vx {

struct DicomSegOptions {
  // Segment names for labels 1..N: every one of them becomes a segment, empty or not, and a
  // mask value above N is refused. Empty: the non-zero labels present, named "label V".
  std::vector<std::string> label_names;
  std::string series_description = "voxinfer segmentation";
  int series_number = 0;  // 0: the source's SeriesNumber + 1000 (1000 when it has none)
  std::string software_version;
};

struct DicomSegResult {
  std::string series_instance_uid, sop_instance_uid;
  std::vector<int> labels;  // the segments written (label value = SegmentNumber)
  int64_t frames = 0;
  int64_t frames_interpolated = 0;  // frames at resampled slices (derived from the images around them)
};

// `mask`: integer labels 0..65535 on `reference`'s grid (the volume read_dicom made of the series
// `src` describes). Throws Error: shape_mismatch (mask not on the reference grid), invalid_argument
// (non-integer or negative labels, a label above the named ones, no label at all and no names),
// limit_exceeded (more than 2^31 pixel bits), io_error (cannot write; nothing is left at `path`).
DicomSegResult write_dicom_seg(const std::string& path, const Volume& mask, const Volume& reference,
                               const DicomSource& src, const DicomSegOptions& options = {});

}  // namespace vx
