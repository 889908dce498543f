#include "io/dicom_mosaic.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "io/dicom_tags.h"
#include "io/siemens_csa.h"

namespace vx {

Mosaic mosaic_geometry(const gdcm::DataSet& ds, int64_t rows, int64_t cols, int64_t frames, const std::string& where) {
  Mosaic m;
  const int n = mosaic_images(ds);
  std::string type = tag_string(ds, 0x0008, 0x0008);
  for (char& ch : type) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const bool marked = type.find("MOSAIC") != std::string::npos;
  if (n <= 1 && !marked) return m;
  const std::string what = "Siemens mosaic image (" + (n > 0 ? std::to_string(n) + " slices" : std::string("slices")) +
                           " tiled into one " + std::to_string(cols) + "x" + std::to_string(rows) + " image; ImageType '" +
                           tag_string(ds, 0x0008, 0x0008) + "')";
  if (n <= 0)
    fail(Status::unsupported, what + " without NumberOfImagesInMosaic in its CSA header: the slices cannot be unpacked, "
                                     "and read as it is it would be one 2-D image; convert it first, e.g. with dcm2niix" + where);
  if (frames > 1) fail(Status::unsupported, "multi-frame " + what + " is not supported" + where);
  m.slices = n;
  m.grid = int64_t(std::ceil(std::sqrt(double(n)) - 1e-9));
  if (rows % m.grid || cols % m.grid)
    fail(Status::corrupt_file, what + ": " + std::to_string(m.grid) + " x " + std::to_string(m.grid) +
                                   " tiles do not divide the image" + where);
  m.tile_rows = rows / m.grid, m.tile_cols = cols / m.grid;
  const std::vector<double> iop = tag_doubles(ds, 0x0020, 0x0037), ps = tag_doubles(ds, 0x0028, 0x0030),
                            ipp = tag_doubles(ds, 0x0020, 0x0032);
  std::vector<double> gap = tag_doubles(ds, 0x0018, 0x0088);
  if (gap.empty() || !(gap[0] > 0)) gap = tag_doubles(ds, 0x0018, 0x0050);
  if (iop.size() != 6 || ps.size() != 2 || ipp.size() != 3)
    fail(Status::corrupt_file, what + " without ImageOrientationPatient, PixelSpacing or ImagePositionPatient" + where);
  if (gap.empty() || !(gap[0] > 0) || !std::isfinite(gap[0]))
    fail(Status::corrupt_file, what + " without SpacingBetweenSlices or SliceThickness" + where);
  std::array<double, 3> nrm = {iop[1] * iop[5] - iop[2] * iop[4], iop[2] * iop[3] - iop[0] * iop[5],
                               iop[0] * iop[4] - iop[1] * iop[3]};
  const std::vector<std::string> csa_n = csa_image_values(ds, "SliceNormalVector");
  if (csa_n.size() == 3) {
    double d = 0;
    for (int a = 0; a < 3; ++a) d += nrm[a] * std::atof(csa_n[size_t(a)].c_str());
    if (d < 0)
      for (double& x : nrm) x = -x;
  }
  for (int a = 0; a < 3; ++a) {
    m.first_ipp[a] = ipp[a] + iop[3 + a] * ps[0] * double(rows - m.tile_rows) / 2 +
                     iop[a] * ps[1] * double(cols - m.tile_cols) / 2;
    m.step[a] = nrm[a] * gap[0];
  }
  return m;
}

void copy_mosaic_tile(const Mosaic& m, const float* src, int64_t cols, int64_t k, float* dst) {
  const int64_t r0 = (k / m.grid) * m.tile_rows, c0 = (k % m.grid) * m.tile_cols;
  for (int64_t r = 0; r < m.tile_rows; ++r)
    std::copy(src + (r0 + r) * cols + c0, src + (r0 + r) * cols + c0 + m.tile_cols, dst + r * m.tile_cols);
}

}  // namespace vx
