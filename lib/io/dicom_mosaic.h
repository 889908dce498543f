// Siemens mosaics: one image holding the N slices of a volume as tiles of a grid x grid layout
// (grid = ceil(sqrt(N))), row by row, N = NumberOfImagesInMosaic from the CSA image header (or
// the private (0019,100A)). The geometry is nibabel's (nicom.dicomwrappers.MosaicWrapper):
// ImagePositionPatient names the corner of the whole mosaic, so the first slice's position is
//   IPP + colcos * dy * (rows - tile_rows) / 2 + rowcos * dx * (cols - tile_cols) / 2
// and slice k lies k * SpacingBetweenSlices (else SliceThickness) along the normal row x column
// cosine, signed as the CSA SliceNormalVector when that is given.
// Refused (Error(unsupported)): a mosaic whose slice count is not recorded, a multi-frame
// mosaic; Error(corrupt_file): tiles that do not divide the image, no slice spacing.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include <gdcmDataSet.h>

namespace vx {

struct Mosaic {
  int64_t slices = 0;  // 0: not a mosaic
  int64_t grid = 0, tile_rows = 0, tile_cols = 0;
  std::array<double, 3> first_ipp{}, step{};  // LPS mm
};

Mosaic mosaic_geometry(const gdcm::DataSet& ds, int64_t rows, int64_t cols, int64_t frames, const std::string& where);

// Copies tile k of the mosaic image `src` (rows x cols floats) to dst (tile_rows x tile_cols).
void copy_mosaic_tile(const Mosaic& m, const float* src, int64_t cols, int64_t k, float* dst);

}  // namespace vx
