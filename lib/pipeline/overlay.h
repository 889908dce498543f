// PNG overlays of a Grad-CAM map on its scan (OpenCV): the scan normalised to grey by its own
// min/max, the map (expected in [0, 1]) coloured with cv::COLORMAP_INFERNO and blended at
// `alpha` (0.5 as the published figures). Files are written to a temporary name in the same
// folder and renamed, so a reader never sees a half-written PNG.
// NIfTI output of a map with the scan's geometry is left to the io branch's NIfTI writer
// (not merged yet): write CamMap::map through it with the input volume's header.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace cv {
class Mat;
}

namespace vx::explain {

struct OverlayOptions {
  int axis = 0;        // slicing axis of the volume: 0 = D (axial for D,H,W), 1 = H, 2 = W
  float alpha = 0.5f;  // weight of the coloured map
  int columns = 4;     // montage only
};

// scan and map: same grid, [H, W] or [D, H, W] (leading 1-sized N, C axes are ignored).
// Throws Error(shape_mismatch) on different grids, invalid_argument on a slice out of range,
// io_error when the file cannot be written.
void write_overlay_png(const std::string& path, const Tensor& scan, const Tensor& map, int64_t slice,
                       const OverlayOptions& options = {});
// Every slice along options.axis rendered as write_overlay_png renders one, as RGB bytes
// (R, G, B interleaved), slice after slice: [slices][rows][columns][3] (for axis 0 of [D, H, W]:
// [D][H][W][3]). For DICOM secondary captures (io/dicom_sc_write.h).
std::vector<uint8_t> overlay_rgb_slices(const Tensor& scan, const Tensor& map, const OverlayOptions& options = {});
// Montage of the given slices (all slices when empty), row-major, `columns` per row.
void write_montage_png(const std::string& path, const Tensor& scan, const Tensor& map,
                       const std::vector<int64_t>& slices = {}, const OverlayOptions& options = {});

// Writes an OpenCV image as PNG under a temporary name in the same folder, then renames it.
// Throws Error(io_error).
void write_png_atomic(const std::string& path, const cv::Mat& image);

}  // namespace vx::explain
