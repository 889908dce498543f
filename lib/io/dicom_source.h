// What a derived DICOM object (a segmentation, a secondary capture) must say about the series it
// was computed from: the patient and study it belongs to, its frame of reference, and which
// source image (and frame) lies at each slice of the volume read_dicom made of it.
// Read from the headers alone (pixels are not decoded), for the same series read_dicom reads
// for the same path (DIR, DIR#series=..., or one file).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "image/volume.h"

namespace vx {

struct DicomSourceImage {
  std::string sop_class_uid, sop_instance_uid;
  int frame = 0;                   // 1-based frame of a multi-frame image; 0 for a single-frame one
  std::array<double, 3> ipp{};     // ImagePositionPatient (LPS mm) of the frame
  bool has_position = false;       // false for a Siemens mosaic (no position per slice)
};

struct DicomSource {
  std::string path;  // as given (with its selector)
  // Patient and study modules, copied verbatim (type-2 attributes may be "").
  std::string specific_character_set, patient_name, patient_id, patient_birth_date, patient_sex;
  std::string study_instance_uid, study_date, study_time, study_id, accession_number, referring_physician,
      study_description;
  std::string series_instance_uid, series_number, modality, frame_of_reference_uid, position_reference;
  double slice_thickness = 0;  // SliceThickness (top level or shared pixel measures); 0 = not given
  std::vector<DicomSourceImage> images;  // every image/frame of the series, in file order
};

// Throws Error: invalid_argument (not a DICOM input, io/volume_io.h is_dicom_input: a NIfTI file), io_error (missing path),
// corrupt_file (no DICOM image, no StudyInstanceUID / FrameOfReferenceUID), and what
// list_dicom_series / select_series throw.
DicomSource read_dicom_source(const std::string& path);

// For each slice k of `grid` (a volume read_dicom made of the same series): the indices into
// src.images of the images it derives from. The image whose position is that slice's (within 2%
// of the slice spacing + 1e-3 mm) alone; else (a slice the reader resampled from uneven ones) the
// nearest image on each side along the slice normal; for a series without per-slice positions
// (a Siemens mosaic) every image.
std::vector<std::vector<int>> source_images_per_slice(const DicomSource& src, const Mat4& grid_affine, int64_t nz);

// Throws Error(shape_mismatch) naming the difference when `v` is not on `ref`'s voxel grid: same
// size and every affine entry within 1e-3 (mm) of it (NIfTI keeps the affine in float32).
void require_same_grid(const Volume& v, const Volume& ref, const std::string& what);

}  // namespace vx
