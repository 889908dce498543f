#include "io/dicom_sc_write.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "io/dicom_out_common.h"

namespace fs = std::filesystem;

namespace vx {
namespace {

using gdcm::VR;
using namespace dicom_out;

constexpr const char* kScClass = "1.2.840.10008.5.1.4.1.1.7";

std::string file_name(int64_t k, int64_t n) {
  const size_t digits = std::max<size_t>(4, std::to_string(n).size());
  const std::string num = std::to_string(k + 1);
  return "IM_" + std::string(digits - num.size(), '0') + num + ".dcm";
}

}  // namespace

DicomScResult write_dicom_sc_series(const std::string& dir, const std::vector<uint8_t>& rgb, const Volume& reference,
                                    const DicomSource& src, const DicomScOptions& o) {
  const int64_t nx = reference.nx(), ny = reference.ny(), nz = reference.nz(), plane = nx * ny;
  if (int64_t(rgb.size()) != plane * nz * 3)
    fail(Status::invalid_argument, "the RGB overlay has " + std::to_string(rgb.size()) + " bytes, the reference grid needs " +
                                       std::to_string(plane * nz * 3));
  if (nx > 65535 || ny > 65535) fail(Status::limit_exceeded, "a slice larger than 65535 pixels cannot be a DICOM image");
  std::error_code ec;
  if (fs::exists(dir, ec)) fail(Status::io_error, "'" + dir + "' exists; the secondary captures need a new folder");
  const PlaneGeometry geo = plane_geometry(reference.affine);
  const std::vector<std::vector<int>> at_slice = source_images_per_slice(src, reference.affine, nz);

  const fs::path target(dir);
  const fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".tmp-" + unique_suffix());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) fail(Status::io_error, "cannot create " + tmp.string() + ": " + ec.message());
  DicomScResult r;
  int number = o.series_number;
  if (number == 0) number = std::atoi(src.series_number.c_str()) + 2000;
  try {
    r.series_instance_uid = new_uid();
    for (int64_t k = 0; k < nz; ++k) {
      gdcm::DataSet ds;
      put(ds, 0x0008, 0x0016, VR::UI, kScClass);
      put(ds, 0x0008, 0x0018, VR::UI, new_uid());
      put_common_modules(ds, src, "OT", number, o.series_description, o.software_version);
      put(ds, 0x0020, 0x000e, VR::UI, r.series_instance_uid);  // one series for all slices
      put(ds, 0x0008, 0x0064, VR::CS, "WSD");                  // ConversionType: workstation
      put(ds, 0x0008, 0x0008, VR::CS, "DERIVED\\SECONDARY");
      put(ds, 0x0020, 0x0013, VR::IS, std::to_string(k + 1));  // InstanceNumber
      put(ds, 0x0020, 0x0020, VR::CS, "");                     // PatientOrientation (type 2)
      put(ds, 0x0028, 0x2110, VR::CS, "00");
      if (!o.derivation_description.empty()) put(ds, 0x0008, 0x2111, VR::ST, o.derivation_description);
      // The slice's image plane (standard extended attributes for the SC IOD).
      const auto ipp = geo.ipp(k);
      put_ds(ds, 0x0020, 0x0032, {ipp[0], ipp[1], ipp[2]});
      put_ds(ds, 0x0020, 0x0037, std::vector<double>(geo.iop.begin(), geo.iop.end()));
      put_ds(ds, 0x0028, 0x0030, {geo.pixel_spacing[0], geo.pixel_spacing[1]});
      put_ds(ds, 0x0018, 0x0050, {src.slice_thickness > 0 ? src.slice_thickness : geo.slice_spacing});
      put_ds(ds, 0x0018, 0x0088, {geo.slice_spacing});
      std::vector<gdcm::DataSet> sources;
      for (int image : at_slice[size_t(k)]) sources.push_back(image_reference(src.images[size_t(image)]));
      put_seq(ds, 0x0008, 0x2112, sources);  // SourceImageSequence
      // Image Pixel: RGB, interleaved.
      put_image_pixel(ds, 3, "RGB", ny, nx, 8);
      const char* p = reinterpret_cast<const char*>(rgb.data()) + k * plane * 3;
      put_bytes(ds, 0x7fe0, 0x0010, VR::OB, std::vector<char>(p, p + plane * 3));
      const std::string name = file_name(k, nz);
      write_atomic((tmp / name).string(), ds);
      r.files.push_back(name);
    }
    fs::rename(tmp, target, ec);
    if (ec) fail(Status::io_error, "cannot rename " + tmp.string() + " to " + dir + ": " + ec.message());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  return r;
}

}  // namespace vx
