#include "io/dicom_out_common.h"

#include <gdcmItem.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmUIDGenerator.h>
#include <gdcmWriter.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <cstdio>
#include <ctime>

#include "core/error.h"

namespace vx::dicom_out {

void put(gdcm::DataSet& ds, uint16_t g, uint16_t e, gdcm::VR::VRType vr, const std::string& value) {
  std::string v = value;
  if (v.size() % 2) v.push_back(vr == gdcm::VR::UI ? '\0' : ' ');
  gdcm::DataElement de(gdcm::Tag(g, e));
  de.SetVR(vr);
  de.SetByteValue(v.data(), uint32_t(v.size()));
  ds.Replace(de);
}

void put_us(gdcm::DataSet& ds, uint16_t g, uint16_t e, uint16_t value) {
  const char b[2] = {char(value & 0xff), char(value >> 8)};
  gdcm::DataElement de(gdcm::Tag(g, e));
  de.SetVR(gdcm::VR::US);
  de.SetByteValue(b, 2);
  ds.Replace(de);
}

void put_at(gdcm::DataSet& ds, uint16_t g, uint16_t e, uint16_t tg, uint16_t te) {
  const char b[4] = {char(tg & 0xff), char(tg >> 8), char(te & 0xff), char(te >> 8)};
  gdcm::DataElement de(gdcm::Tag(g, e));
  de.SetVR(gdcm::VR::AT);
  de.SetByteValue(b, 4);
  ds.Replace(de);
}

void put_ds(gdcm::DataSet& ds, uint16_t g, uint16_t e, const std::vector<double>& values) {
  std::string s;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) fail(Status::invalid_argument, "non-finite value for a DICOM decimal string");
    const double v = std::fabs(values[i]) < 1e-12 ? 0.0 : values[i];
    char buf[32];
    for (int digits = 12; digits >= 6; --digits) {  // DS holds at most 16 characters
      std::snprintf(buf, sizeof buf, "%.*g", digits, v);
      if (std::string(buf).size() <= 16) break;
    }
    s += (i ? "\\" : "") + std::string(buf);
  }
  put(ds, g, e, gdcm::VR::DS, s);
}

void put_bytes(gdcm::DataSet& ds, uint16_t g, uint16_t e, gdcm::VR::VRType vr, std::vector<char> bytes) {
  if (bytes.size() % 2) bytes.push_back(0);
  gdcm::DataElement de(gdcm::Tag(g, e));
  de.SetVR(vr);
  de.SetByteValue(bytes.data(), uint32_t(bytes.size()));
  ds.Replace(de);
}

void put_seq(gdcm::DataSet& ds, uint16_t g, uint16_t e, const std::vector<gdcm::DataSet>& items) {
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq = new gdcm::SequenceOfItems();
  sq->SetLengthToUndefined();
  for (const gdcm::DataSet& nested : items) {
    gdcm::Item item;
    item.SetVLToUndefined();
    item.SetNestedDataSet(nested);
    sq->AddItem(item);
  }
  gdcm::DataElement de(gdcm::Tag(g, e));
  de.SetVR(gdcm::VR::SQ);
  de.SetValue(*sq);
  de.SetVLToUndefined();
  ds.Replace(de);
}

void put_image_pixel(gdcm::DataSet& ds, int samples, const std::string& photometric, int64_t rows, int64_t cols, int bits) {
  put_us(ds, 0x0028, 0x0002, uint16_t(samples));
  put(ds, 0x0028, 0x0004, gdcm::VR::CS, photometric);
  if (samples > 1) put_us(ds, 0x0028, 0x0006, 0);  // R, G, B interleaved
  put_us(ds, 0x0028, 0x0010, uint16_t(rows));
  put_us(ds, 0x0028, 0x0011, uint16_t(cols));
  put_us(ds, 0x0028, 0x0100, uint16_t(bits));
  put_us(ds, 0x0028, 0x0101, uint16_t(bits));
  put_us(ds, 0x0028, 0x0102, uint16_t(bits - 1));
  put_us(ds, 0x0028, 0x0103, 0);
}

gdcm::DataSet image_reference(const DicomSourceImage& im) {
  gdcm::DataSet r;
  put(r, 0x0008, 0x1150, gdcm::VR::UI, im.sop_class_uid);
  put(r, 0x0008, 0x1155, gdcm::VR::UI, im.sop_instance_uid);
  if (im.frame > 0) put(r, 0x0008, 0x1160, gdcm::VR::IS, std::to_string(im.frame));
  return r;
}

gdcm::DataSet code(const std::string& value, const std::string& scheme, const std::string& meaning) {
  gdcm::DataSet c;
  put(c, 0x0008, 0x0100, gdcm::VR::SH, value);
  put(c, 0x0008, 0x0102, gdcm::VR::SH, scheme);
  put(c, 0x0008, 0x0104, gdcm::VR::LO, meaning);
  return c;
}

std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  return std::to_string(getpid()) + "-" + std::to_string(counter++);
}

std::string new_uid() {
  gdcm::UIDGenerator gen;
  const char* uid = gen.Generate();
  if (!uid) fail(Status::internal, "GDCM could not generate a UID");
  return uid;
}

std::string put_common_modules(gdcm::DataSet& ds, const DicomSource& src, const std::string& modality, int series_number,
                               const std::string& description, const std::string& software_version) {
  using gdcm::VR;
  if (!src.specific_character_set.empty()) put(ds, 0x0008, 0x0005, VR::CS, src.specific_character_set);
  // Patient (type 2: present, possibly empty).
  put(ds, 0x0010, 0x0010, VR::PN, src.patient_name);
  put(ds, 0x0010, 0x0020, VR::LO, src.patient_id);
  put(ds, 0x0010, 0x0030, VR::DA, src.patient_birth_date);
  put(ds, 0x0010, 0x0040, VR::CS, src.patient_sex);
  // General Study: the source's study, so a PACS files the object with the scan.
  put(ds, 0x0020, 0x000d, VR::UI, src.study_instance_uid);
  put(ds, 0x0008, 0x0020, VR::DA, src.study_date);
  put(ds, 0x0008, 0x0030, VR::TM, src.study_time);
  put(ds, 0x0008, 0x0090, VR::PN, src.referring_physician);
  put(ds, 0x0020, 0x0010, VR::SH, src.study_id);
  put(ds, 0x0008, 0x0050, VR::SH, src.accession_number);
  if (!src.study_description.empty()) put(ds, 0x0008, 0x1030, VR::LO, src.study_description);
  // General Series: a new series.
  const std::string series_uid = new_uid();
  put(ds, 0x0008, 0x0060, VR::CS, modality);
  put(ds, 0x0020, 0x000e, VR::UI, series_uid);
  put(ds, 0x0020, 0x0011, VR::IS, std::to_string(series_number));
  put(ds, 0x0008, 0x103e, VR::LO, description);
  // Frame of Reference: the source's, so positions mean the same place.
  put(ds, 0x0020, 0x0052, VR::UI, src.frame_of_reference_uid);
  put(ds, 0x0020, 0x1040, VR::LO, src.position_reference);
  // (Enhanced) General Equipment.
  put(ds, 0x0008, 0x0070, VR::LO, "voxinfer");
  put(ds, 0x0008, 0x1090, VR::LO, "voxinfer");
  put(ds, 0x0018, 0x1000, VR::LO, "0");
  put(ds, 0x0018, 0x1020, VR::LO, software_version.empty() ? "unknown" : software_version);
  char date[16], time[16];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%Y%m%d", &tm);
  std::strftime(time, sizeof time, "%H%M%S", &tm);
  put(ds, 0x0008, 0x0012, VR::DA, date);  // InstanceCreationDate / Time
  put(ds, 0x0008, 0x0013, VR::TM, time);
  put(ds, 0x0008, 0x0023, VR::DA, date);  // ContentDate / Time
  put(ds, 0x0008, 0x0033, VR::TM, time);
  put(ds, 0x0008, 0x0201, VR::SH, "+0000");  // TimezoneOffsetFromUTC: the times above are UTC
  return series_uid;
}

std::array<double, 3> PlaneGeometry::ipp(int64_t k) const {
  return {origin[0] + double(k) * k_step[0], origin[1] + double(k) * k_step[1], origin[2] + double(k) * k_step[2]};
}

PlaneGeometry plane_geometry(const Mat4& a) {
  PlaneGeometry p;
  std::array<std::array<double, 3>, 4> col{};
  for (int c = 0; c < 4; ++c) col[c] = {-a[c], -a[4 + c], a[8 + c]};  // RAS -> LPS
  auto norm = [](const std::array<double, 3>& v) { return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); };
  const double di = norm(col[0]), dj = norm(col[1]);
  if (!(di > 0) || !(dj > 0)) fail(Status::invalid_argument, "degenerate voxel grid: no DICOM image plane");
  double dot = 0;
  for (int c = 0; c < 3; ++c) {
    p.iop[c] = col[0][c] / di;
    p.iop[3 + c] = col[1][c] / dj;
    dot += p.iop[c] * p.iop[3 + c];
  }
  if (std::fabs(dot) > 1e-4) fail(Status::invalid_argument, "the voxel grid's rows and columns are not orthogonal: no DICOM image plane");
  p.pixel_spacing = {dj, di};
  p.slice_spacing = norm(col[2]);
  p.origin = col[3];
  p.k_step = col[2];
  return p;
}

void write_atomic(const std::string& path, const gdcm::DataSet& ds) {
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string tmp = dir + "/." + base + ".tmp-" + unique_suffix();
  // We open the stream: Debian's GDCM assert()s (aborts the process) in Writer::SetFileName
  // when the file cannot be created.
  std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
  if (!os) fail(Status::io_error, "cannot create DICOM file " + tmp + ": " + std::strerror(errno));
  gdcm::Writer w;
  w.SetStream(os);
  w.GetFile().SetDataSet(ds);
  w.GetFile().GetHeader().SetDataSetTransferSyntax(gdcm::TransferSyntax::ExplicitVRLittleEndian);
  bool ok = false;
  try {
    ok = w.Write();
    os.close();
    ok = ok && !os.fail();
  } catch (const std::exception& e) {
    std::remove(tmp.c_str());
    fail(Status::io_error, "cannot write DICOM file " + path + ": " + e.what());
  }
  if (!ok) {
    std::remove(tmp.c_str());
    fail(Status::io_error, "cannot write DICOM file " + path + " (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    fail(Status::io_error, "cannot rename " + tmp + " to " + path + ": " + std::strerror(err));
  }
}

}  // namespace vx::dicom_out
