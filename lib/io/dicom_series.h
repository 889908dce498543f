// The DICOM series under a folder, from the headers alone, and
// the choice of one of them by a selector appended to the folder's path:
//   DIR#series=UID                 SeriesInstanceUID, exactly
//   DIR#series-number=N            SeriesNumber (as integers)
//   DIR#series-description=GLOB    SeriesDescription, shell glob (* ? [..]), case-insensitive
// The files are those the folder's DICOMDIR names (io/dicomdir.h) when it has one, else those
// found walking it (io/dir_walk.h); DIR may also be the DICOMDIR file itself.
// Files are grouped by SeriesInstanceUID; only files with pixel data count (a DICOMDIR, a
// structured report or a presentation state is no series). Series are listed by SeriesNumber,
// then UID.
// Orientation: the patient axis nearest the slice normal (x: sagittal, y: coronal, z: axial),
// "oblique" when the normal is more than 20 degrees from it, "mixed" when the images of the
// series do not share one orientation (a three-plane localiser).
// Sequence hints (from the header, not from the pixels): "inversion_recovery" (ScanningSequence
// IR or an InversionTime), "stir" (inversion recovery with 0 < TI < 300 ms), "flair" (TI >
// 1500 ms), "fat_suppressed" (ScanOptions FS/FAT/SPAIR/SPIR/CHESS, or STIR/SPAIR/FATSAT/FS in the
// description or protocol name), "localizer" (ImageType LOCALIZER), "mosaic" (ImageType MOSAIC).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vx {

struct DicomSeriesInfo {
  std::string uid, number, description, protocol, modality, image_type;
  std::string sequence_name, scanning_sequence, sequence_variant, scan_options;
  double inversion_time_ms = -1;  // -1 = not given
  std::vector<std::string> hints;
  std::string orientation;
  int64_t rows = 0, cols = 0, slices = 0;  // slices: images x frames
  std::array<double, 3> spacing_mm{};      // column spacing, row spacing, median slice gap (0: one slice)
  std::vector<std::string> files;
};

// Damaged DICOM files throw (corrupt_file / unsupported), as read_dicom does; with `skipped`
// they are left out instead and named there ("path: reason"), for a listing.
std::vector<DicomSeriesInfo> list_dicom_series(const std::string& dir, std::vector<std::string>* skipped = nullptr);

struct SeriesSelector {
  std::string key;    // "", "series", "series-number" or "series-description"
  std::string value;
  bool empty() const { return key.empty(); }
};

// Splits "DIR#series=..." into the path and the selector. A path that exists as given is
// never split (a folder may have '#' in its name). Throws Error(invalid_argument) for an
// unknown selector key.
std::pair<std::string, SeriesSelector> split_series_selector(const std::string& path);

// The one series that `sel` names. With no selector a folder must hold one series. Throws
// Error(invalid_argument) listing the series (number, description, UID, size) when there are
// several and no selector, or when the selector matches none or several; Error(corrupt_file)
// when there is no DICOM image at all.
const DicomSeriesInfo& select_series(const std::vector<DicomSeriesInfo>& all, const SeriesSelector& sel,
                                     const std::string& dir);

// One line per series, as in the errors above.
std::string series_table(const std::vector<DicomSeriesInfo>& all);

}  // namespace vx
