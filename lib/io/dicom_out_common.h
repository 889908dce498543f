// What the DICOM writers (io/dicom_seg_write.h, io/dicom_sc_write.h) share: putting attributes
// into a GDCM data set with the VR and padding the standard asks for, the patient / study /
// frame-of-reference modules copied from the source series, the image-plane geometry of a
// volume's slices, new UIDs, and an atomic write (a temporary file in the same folder, renamed).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <gdcmDataSet.h>
#include <gdcmVR.h>

#include "image/volume.h"
#include "io/dicom_source.h"

namespace vx::dicom_out {

// A string value (UI padded with NUL, the others with a space to an even length).
void put(gdcm::DataSet& ds, uint16_t g, uint16_t e, gdcm::VR::VRType vr, const std::string& value);
void put_us(gdcm::DataSet& ds, uint16_t g, uint16_t e, uint16_t value);
// Attribute tags (VR AT), e.g. a DimensionIndexPointer.
void put_at(gdcm::DataSet& ds, uint16_t g, uint16_t e, uint16_t tag_g, uint16_t tag_e);
// Decimal strings, each at most 16 characters (as many significant digits as fit).
void put_ds(gdcm::DataSet& ds, uint16_t g, uint16_t e, const std::vector<double>& values);
void put_bytes(gdcm::DataSet& ds, uint16_t g, uint16_t e, gdcm::VR::VRType vr, std::vector<char> bytes);
// A sequence of the given items (undefined lengths).
void put_seq(gdcm::DataSet& ds, uint16_t g, uint16_t e, const std::vector<gdcm::DataSet>& items);
// Image Pixel module of unsigned samples: SamplesPerPixel, PhotometricInterpretation,
// (PlanarConfiguration 0 for colour), Rows, Columns, BitsAllocated = BitsStored = bits,
// HighBit = bits - 1, PixelRepresentation 0.
void put_image_pixel(gdcm::DataSet& ds, int samples, const std::string& photometric, int64_t rows, int64_t cols, int bits);
// An image-reference item: ReferencedSOPClassUID, ReferencedSOPInstanceUID and, for a frame of a
// multi-frame image, ReferencedFrameNumber.
gdcm::DataSet image_reference(const DicomSourceImage& image);
// One code-sequence item: CodeValue, CodingSchemeDesignator, CodeMeaning.
gdcm::DataSet code(const std::string& value, const std::string& scheme, const std::string& meaning);

// SpecificCharacterSet, Patient, General Study and Frame of Reference modules from `src`;
// General Series with a new SeriesInstanceUID (returned) and the given modality, number and
// description; Equipment (Manufacturer voxinfer, SoftwareVersions), ContentDate/Time now (UTC).
std::string put_common_modules(gdcm::DataSet& ds, const DicomSource& src, const std::string& modality,
                               int series_number, const std::string& description, const std::string& software_version);

// Image-plane geometry of the slices of a volume read from DICOM (the reader's convention,
// io/dicom.h): rows along the affine's j axis, columns along i, slices along k; LPS mm.
struct PlaneGeometry {
  std::array<double, 6> iop{};           // row cosine (along i), column cosine (along j)
  std::array<double, 2> pixel_spacing{}; // between rows (|j step|), between columns (|i step|)
  double slice_spacing = 0;              // |k step|
  std::array<double, 3> origin{}, k_step{};
  std::array<double, 3> ipp(int64_t k) const;
};
// Throws Error(invalid_argument) when i and j are not orthogonal (no DICOM plane describes it).
PlaneGeometry plane_geometry(const Mat4& ras_affine);

std::string new_uid();
// "<pid>-<n>", unique within the process, for temporary names beside an output.
std::string unique_suffix();

// Writes `ds` as a Part 10 file (Explicit VR Little Endian; the meta header from SOPClassUID /
// SOPInstanceUID) to a temporary file in path's folder, then renames it to `path`; on failure
// nothing is left. Throws Error(io_error).
void write_atomic(const std::string& path, const gdcm::DataSet& ds);

}  // namespace vx::dicom_out
