#include "io/dicom_source.h"

#include <gdcmReader.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "io/dicom_precheck.h"
#include "io/dicom_series.h"
#include "io/dicom_tags.h"
#include "io/dicomdir.h"
#include "io/dir_walk.h"
#include "io/volume_io.h"

namespace vx {
namespace {

std::array<double, 3> lps_column(const Mat4& ras, int c) {  // RAS affine column -> LPS
  return {-ras[c], -ras[4 + c], ras[8 + c]};
}

// Appends the images (frames) of one file; false when it is not a DICOM image.
bool read_header(const std::string& file, DicomSource& src, bool first) {
  if (!precheck_dicom_file(file)) return false;
  gdcm::Reader reader;
  reader.SetFileName(file.c_str());
  if (!reader.ReadUpToTag(gdcm::Tag(0x7fe0, 0x0010), std::set<gdcm::Tag>())) return false;
  const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
  if (!ds.FindDataElement(gdcm::Tag(0x0028, 0x0010))) return false;  // not an image
  if (first) {
    src.specific_character_set = tag_string(ds, 0x0008, 0x0005);
    src.patient_name = tag_string(ds, 0x0010, 0x0010);
    src.patient_id = tag_string(ds, 0x0010, 0x0020);
    src.patient_birth_date = tag_string(ds, 0x0010, 0x0030);
    src.patient_sex = tag_string(ds, 0x0010, 0x0040);
    src.study_instance_uid = tag_string(ds, 0x0020, 0x000d);
    src.study_date = tag_string(ds, 0x0008, 0x0020);
    src.study_time = tag_string(ds, 0x0008, 0x0030);
    src.study_id = tag_string(ds, 0x0020, 0x0010);
    src.accession_number = tag_string(ds, 0x0008, 0x0050);
    src.referring_physician = tag_string(ds, 0x0008, 0x0090);
    src.study_description = tag_string(ds, 0x0008, 0x1030);
    src.series_instance_uid = tag_string(ds, 0x0020, 0x000e);
    src.series_number = tag_string(ds, 0x0020, 0x0011);
    src.modality = tag_string(ds, 0x0008, 0x0060);
    src.frame_of_reference_uid = tag_string(ds, 0x0020, 0x0052);
    src.position_reference = tag_string(ds, 0x0020, 0x1040);
    const std::vector<double> th = group_value(ds, nullptr, 0x0028, 0x9110, 0x0018, 0x0050);
    if (th.size() == 1 && th[0] > 0 && std::isfinite(th[0])) src.slice_thickness = th[0];
  }
  DicomSourceImage im;
  im.sop_class_uid = tag_string(ds, 0x0008, 0x0016);
  im.sop_instance_uid = tag_string(ds, 0x0008, 0x0018);
  if (im.sop_class_uid.empty() || im.sop_instance_uid.empty())
    fail(Status::corrupt_file, "DICOM image without SOPClassUID or SOPInstanceUID in '" + file + "'");
  const std::string nf = tag_string(ds, 0x0028, 0x0008);
  const long frames = nf.empty() ? 1 : std::strtol(nf.c_str(), nullptr, 10);
  if (frames > 1 && seq_item(ds, 0x5200, 0x9230, 1)) {  // enhanced multi-frame: per-frame positions
    for (long f = 1; f <= frames; ++f) {
      const gdcm::DataSet* pfg = seq_item(ds, 0x5200, 0x9230, size_t(f));
      const std::vector<double> ipp = pfg ? group_value(ds, pfg, 0x0020, 0x9113, 0x0020, 0x0032) : std::vector<double>{};
      DicomSourceImage fi = im;
      fi.frame = int(f);
      fi.has_position = ipp.size() == 3;
      if (fi.has_position) fi.ipp = {ipp[0], ipp[1], ipp[2]};
      src.images.push_back(fi);
    }
  } else {
    const std::vector<double> ipp = tag_doubles(ds, 0x0020, 0x0032);
    const std::string type = tag_string(ds, 0x0008, 0x0008);
    im.has_position = ipp.size() == 3 && type.find("MOSAIC") == std::string::npos;
    if (im.has_position) im.ipp = {ipp[0], ipp[1], ipp[2]};
    src.images.push_back(im);
  }
  return true;
}

}  // namespace

DicomSource read_dicom_source(const std::string& path) {
  if (!is_dicom_input(path))
    fail(Status::invalid_argument, "'" + path + "' is not DICOM (a NIfTI file): DICOM outputs need the DICOM series they refer to");
  const auto [where, selector] = split_series_selector(path);
  std::error_code ec;
  std::vector<std::string> files;
  if (std::filesystem::is_directory(where, ec) || is_dicomdir_file(where)) {
    files = select_series(list_dicom_series(where), selector, where).files;
  } else if (is_regular_file(where)) {
    files.push_back(where);
  } else {
    fail(Status::io_error, "DICOM path does not exist or is not a file or folder: '" + path + "'");
  }
  DicomSource src;
  src.path = path;
  for (const std::string& f : files) read_header(f, src, src.images.empty());
  if (src.images.empty()) fail(Status::corrupt_file, "no readable DICOM image in '" + path + "'");
  if (src.study_instance_uid.empty() || src.series_instance_uid.empty())
    fail(Status::corrupt_file, "the DICOM series in '" + path + "' has no StudyInstanceUID or SeriesInstanceUID");
  if (src.frame_of_reference_uid.empty())
    fail(Status::corrupt_file, "the DICOM series in '" + path +
                                   "' has no FrameOfReferenceUID: a derived object could not be placed in its space");
  return src;
}

std::vector<std::vector<int>> source_images_per_slice(const DicomSource& src, const Mat4& a, int64_t nz) {
  const std::array<double, 3> o = lps_column(a, 3), step = lps_column(a, 2);
  const double gap = std::sqrt(step[0] * step[0] + step[1] * step[1] + step[2] * step[2]);
  const double tol = 0.02 * gap + 1e-3;
  std::vector<std::vector<int>> out(static_cast<size_t>(nz));
  std::vector<int> positioned, all;
  for (size_t i = 0; i < src.images.size(); ++i) {
    all.push_back(int(i));
    if (src.images[i].has_position) positioned.push_back(int(i));
  }
  for (int64_t k = 0; k < nz; ++k) {
    if (positioned.empty()) {
      out[size_t(k)] = all;
      continue;
    }
    std::array<double, 3> p{};
    for (int c = 0; c < 3; ++c) p[c] = o[c] + double(k) * step[c];
    int exact = -1, below = -1, above = -1;
    double best = tol, d_below = 0, d_above = 0;
    for (int i : positioned) {
      double d2 = 0, along = 0;
      for (int c = 0; c < 3; ++c) {
        d2 += std::pow(src.images[size_t(i)].ipp[c] - p[c], 2);
        along += (src.images[size_t(i)].ipp[c] - p[c]) * step[c] / gap;  // signed distance along the normal
      }
      if (std::sqrt(d2) <= best) best = std::sqrt(d2), exact = i;
      if (along < 0 && (below < 0 || along > d_below)) below = i, d_below = along;
      if (along >= 0 && (above < 0 || along < d_above)) above = i, d_above = along;
    }
    if (exact >= 0) {
      out[size_t(k)] = {exact};
    } else {
      if (below >= 0) out[size_t(k)].push_back(below);
      if (above >= 0) out[size_t(k)].push_back(above);
    }
  }
  return out;
}

void require_same_grid(const Volume& v, const Volume& ref, const std::string& what) {
  if (v.size_ijk() != ref.size_ijk()) {
    const auto a = v.size_ijk(), b = ref.size_ijk();
    fail(Status::shape_mismatch, what + " is " + std::to_string(a[0]) + "x" + std::to_string(a[1]) + "x" +
                                     std::to_string(a[2]) + " voxels, the reference series " + std::to_string(b[0]) + "x" +
                                     std::to_string(b[1]) + "x" + std::to_string(b[2]) +
                                     ": it must be on the reference series' voxel grid");
  }
  for (int i = 0; i < 12; ++i)
    if (!(std::fabs(v.affine[i] - ref.affine[i]) <= 1e-3)) {
      char buf[160];
      std::snprintf(buf, sizeof buf, " differs from the reference series' geometry (affine row %d column %d: %.6g vs %.6g)",
                    i / 4, i % 4, v.affine[i], ref.affine[i]);
      fail(Status::shape_mismatch, what + buf + ": it must be on the reference series' voxel grid");
    }
}

}  // namespace vx
