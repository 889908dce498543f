#include "io/dicom_seg_write.h"

#include <cmath>
#include <cstdlib>
#include <set>

#include "core/error.h"
#include "io/dicom_out_common.h"

namespace vx {
namespace {

using gdcm::VR;
using namespace dicom_out;

constexpr const char* kSegClass = "1.2.840.10008.5.1.4.1.1.66.4";

std::vector<int> labels_of(const Volume& mask, const DicomSegOptions& o) {
  std::set<int> present;
  const float* m = mask.voxels();
  for (int64_t i = 0; i < mask.data.numel(); ++i) {
    const float v = m[i];
    if (!(v >= 0.f && v <= 65535.f) || v != std::floor(v))
      fail(Status::invalid_argument, "a DICOM segmentation needs integer labels 0..65535; the mask has " + std::to_string(v));
    if (v != 0.f) present.insert(int(v));
  }
  std::vector<int> labels;
  if (!o.label_names.empty()) {
    if (!present.empty() && *present.rbegin() > int(o.label_names.size()))
      fail(Status::invalid_argument, "the mask has label " + std::to_string(*present.rbegin()) + " but only " +
                                         std::to_string(o.label_names.size()) + " label name(s) were given");
    for (size_t i = 0; i < o.label_names.size(); ++i) labels.push_back(int(i) + 1);
  } else {
    if (present.empty())
      fail(Status::invalid_argument, "the mask has no non-zero label; name the labels (--label-names) to write empty segments");
    labels.assign(present.begin(), present.end());
  }
  return labels;
}

gdcm::DataSet segment_item(int label, const std::string& name, const std::string& software_version) {
  gdcm::DataSet s;
  put_us(s, 0x0062, 0x0004, uint16_t(label));  // SegmentNumber
  put(s, 0x0062, 0x0005, VR::LO, name);        // SegmentLabel
  put(s, 0x0062, 0x0008, VR::CS, "AUTOMATIC"); // SegmentAlgorithmType
  put(s, 0x0062, 0x0009, VR::LO, "voxinfer " + software_version);
  // Segmented property: SNOMED CT "Morphologically Altered Structure" / "Lesion" for a lesion,
  // else the generic "Tissue" (the label names carry what the model means).
  const bool lesion = name.find("lesion") != std::string::npos || name.find("Lesion") != std::string::npos;
  put_seq(s, 0x0062, 0x0003, {lesion ? code("49755003", "SCT", "Morphologically Altered Structure")
                                     : code("85756007", "SCT", "Tissue")});
  put_seq(s, 0x0062, 0x000f, {lesion ? code("52988006", "SCT", "Lesion") : code("85756007", "SCT", "Tissue")});
  return s;
}

}  // namespace

DicomSegResult write_dicom_seg(const std::string& path, const Volume& mask, const Volume& reference, const DicomSource& src,
                               const DicomSegOptions& o) {
  validate_volume(mask);
  require_same_grid(mask, reference, "the mask");
  const std::vector<int> labels = labels_of(mask, o);
  const PlaneGeometry geo = plane_geometry(reference.affine);
  const int64_t nx = mask.nx(), ny = mask.ny(), nz = mask.nz();
  if (nx > 65535 || ny > 65535) fail(Status::limit_exceeded, "a slice larger than 65535 pixels cannot be a DICOM frame");
  const int64_t frames = int64_t(labels.size()) * nz, plane = nx * ny;
  if (double(frames) * double(plane) > double(int64_t(1) << 31))
    fail(Status::limit_exceeded, "the segmentation would hold more than 2^31 pixels");
  const std::vector<std::vector<int>> at_slice = source_images_per_slice(src, reference.affine, nz);

  DicomSegResult r;
  r.labels = labels;
  r.frames = frames;
  r.sop_instance_uid = new_uid();
  gdcm::DataSet ds;
  put(ds, 0x0008, 0x0016, VR::UI, kSegClass);
  put(ds, 0x0008, 0x0018, VR::UI, r.sop_instance_uid);
  int number = o.series_number;
  if (number == 0) number = std::atoi(src.series_number.c_str()) + 1000;
  r.series_instance_uid = put_common_modules(ds, src, "SEG", number, o.series_description, o.software_version);
  put(ds, 0x0020, 0x0013, VR::IS, "1");                 // InstanceNumber
  put(ds, 0x0008, 0x0008, VR::CS, "DERIVED\\PRIMARY");  // ImageType
  put(ds, 0x0028, 0x2110, VR::CS, "00");                // LossyImageCompression: none
  // Segmentation Image module.
  put(ds, 0x0070, 0x0080, VR::CS, "SEGMENTATION");      // ContentLabel
  put(ds, 0x0070, 0x0081, VR::LO, o.series_description);
  put(ds, 0x0070, 0x0084, VR::PN, "voxinfer");          // ContentCreatorName
  put(ds, 0x0062, 0x0001, VR::CS, "BINARY");            // SegmentationType
  std::vector<gdcm::DataSet> segments;
  for (int l : labels)
    segments.push_back(segment_item(l, o.label_names.empty() ? "label " + std::to_string(l) : o.label_names[size_t(l - 1)],
                                    o.software_version));
  put_seq(ds, 0x0062, 0x0002, segments);
  // Image Pixel: 1-bit monochrome.
  put_image_pixel(ds, 1, "MONOCHROME2", ny, nx, 1);
  put(ds, 0x0028, 0x0008, VR::IS, std::to_string(frames));  // NumberOfFrames

  // Multi-frame Dimension module: frames indexed by segment, then position.
  const std::string dim_uid = new_uid();
  gdcm::DataSet org;
  put(org, 0x0020, 0x9164, VR::UI, dim_uid);
  put_seq(ds, 0x0020, 0x9221, {org});
  gdcm::DataSet d1, d2;
  put(d1, 0x0020, 0x9164, VR::UI, dim_uid);
  put_at(d1, 0x0020, 0x9165, 0x0062, 0x000b);  // DimensionIndexPointer: ReferencedSegmentNumber
  put_at(d1, 0x0020, 0x9167, 0x0062, 0x000a);  // FunctionalGroupPointer: SegmentIdentificationSequence
  put(d1, 0x0020, 0x9421, VR::LO, "ReferencedSegmentNumber");
  put(d2, 0x0020, 0x9164, VR::UI, dim_uid);
  put_at(d2, 0x0020, 0x9165, 0x0020, 0x0032);  // ImagePositionPatient
  put_at(d2, 0x0020, 0x9167, 0x0020, 0x9113);  // PlanePositionSequence
  put(d2, 0x0020, 0x9421, VR::LO, "ImagePositionPatient");
  put_seq(ds, 0x0020, 0x9222, {d1, d2});

  // Shared functional groups: pixel measures and plane orientation.
  gdcm::DataSet shared, measures, orient;
  put_ds(measures, 0x0028, 0x0030, {geo.pixel_spacing[0], geo.pixel_spacing[1]});
  put_ds(measures, 0x0018, 0x0050, {src.slice_thickness > 0 ? src.slice_thickness : geo.slice_spacing});
  put_ds(measures, 0x0018, 0x0088, {geo.slice_spacing});
  put_seq(shared, 0x0028, 0x9110, {measures});
  put_ds(orient, 0x0020, 0x0037, std::vector<double>(geo.iop.begin(), geo.iop.end()));
  put_seq(shared, 0x0020, 0x9116, {orient});
  put_seq(ds, 0x5200, 0x9229, {shared});

  // Per-frame functional groups and the packed pixels.
  std::vector<gdcm::DataSet> per_frame;
  per_frame.reserve(size_t(frames));
  std::vector<char> bits(size_t((frames * plane + 7) / 8), 0);
  int64_t bit = 0;
  for (int l : labels) {
    for (int64_t k = 0; k < nz; ++k) {
      gdcm::DataSet f, content, position, ident;
      std::vector<gdcm::DataSet> sources;
      for (int image : at_slice[size_t(k)]) {
        sources.push_back(image_reference(src.images[size_t(image)]));
        put_seq(sources.back(), 0x0040, 0xa170, {code("121322", "DCM", "Source image for image processing operation")});
      }
      if (at_slice[size_t(k)].size() > 1 && src.images[size_t(at_slice[size_t(k)][0])].has_position) ++r.frames_interpolated;
      gdcm::DataSet derivation;
      put_seq(derivation, 0x0008, 0x9215, {code("113076", "DCM", "Segmentation")});
      put_seq(derivation, 0x0008, 0x2112, sources);
      put_seq(f, 0x0008, 0x9124, {derivation});
      const uint32_t idx[2] = {uint32_t(l), uint32_t(k + 1)};
      std::vector<char> dv(8);
      for (int i = 0; i < 2; ++i)
        for (int b = 0; b < 4; ++b) dv[size_t(i * 4 + b)] = char((idx[i] >> (8 * b)) & 0xff);
      put_bytes(content, 0x0020, 0x9157, VR::UL, dv);  // DimensionIndexValues
      put_seq(f, 0x0020, 0x9111, {content});
      const auto ipp = geo.ipp(k);
      put_ds(position, 0x0020, 0x0032, {ipp[0], ipp[1], ipp[2]});
      put_seq(f, 0x0020, 0x9113, {position});
      put_us(ident, 0x0062, 0x000b, uint16_t(l));
      put_seq(f, 0x0062, 0x000a, {ident});
      per_frame.push_back(std::move(f));
      const float* m = mask.voxels() + k * plane;
      for (int64_t p = 0; p < plane; ++p, ++bit)
        if (m[p] == float(l)) bits[size_t(bit >> 3)] |= char(1 << (bit & 7));
    }
  }
  put_seq(ds, 0x5200, 0x9230, per_frame);

  // Common Instance Reference: the source series and every image of it.
  std::vector<gdcm::DataSet> instances;
  std::set<std::string> listed;
  for (const DicomSourceImage& im : src.images) {
    if (!listed.insert(im.sop_instance_uid).second) continue;
    DicomSourceImage whole = im;
    whole.frame = 0;  // the instance, not a frame of it
    instances.push_back(image_reference(whole));
  }
  gdcm::DataSet series;
  put(series, 0x0020, 0x000e, VR::UI, src.series_instance_uid);
  put_seq(series, 0x0008, 0x114a, instances);
  put_seq(ds, 0x0008, 0x1115, {series});

  put_bytes(ds, 0x7fe0, 0x0010, VR::OB, std::move(bits));
  write_atomic(path, ds);
  return r;
}

}  // namespace vx
