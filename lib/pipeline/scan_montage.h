// Montages for people reading the scan (the Grad-CAM maps and the lesion mask of an exam):
// slices along the scan's acquisition axis (voxel axis k) at the scan's own in-plane
// resolution, in the orientation radiologists view them, enlarged by a whole factor to at
// least `min_width` pixels, each tile labelled with its slice number (k, 0-based as in the
// NIfTI file), a title line, and for a heat map a colour bar from 0 to 1.
//
// Display orientation, from the voxel axes' nearest world directions (axcodes):
//   rows: superior at the top when an in-plane axis is S/I, else anterior at the top;
//   columns: the patient's right on the image's left (axial, coronal), anterior on the
//   left (sagittal), superior on the left when the columns run S/I.
// Heat maps are blended as write_montage_png does (INFERNO at `alpha` over the grey scan,
// the scan normalised by its own min/max); a mask is drawn red where it is > 0.5.
#pragma once
#include <string>
#include <vector>

#include "image/volume.h"

namespace vx::explain {

struct ScanMontageOptions {
  enum class Kind { heat, mask } kind = Kind::heat;
  std::string title;      // the first line of the picture (e.g. sequence, class, probability)
  std::string bar_label;  // heat maps: the colour bar's caption
  int max_slices = 12;    // at most this many slices, evenly spaced over k
  int columns = 4;
  int min_width = 512;    // the picture is enlarged by a whole factor to at least this width
  float alpha = 0.5f;
};

// `map` must be on `scan`'s grid (same dims and affine within 1e-4 mm). Returns the slices
// (k) shown, in tile order. Throws Error(shape_mismatch) for another grid, io_error when the
// file cannot be written; the file is written under a temporary name and renamed.
std::vector<int64_t> write_scan_montage_png(const std::string& path, const Volume& scan, const Volume& map,
                                            const ScanMontageOptions& options = {});

// The display transform alone (for callers that draw their own pictures): pixel (row, col)
// of slice k shows voxel (i, j) = (i0 + col * di_c + row * di_r, j0 + col * dj_c + row * dj_r).
struct SliceView {
  int64_t rows = 0, cols = 0;
  int64_t i0 = 0, j0 = 0, di_c = 0, dj_c = 0, di_r = 0, dj_r = 0;
};
SliceView display_view(const Volume& scan);

}  // namespace vx::explain
