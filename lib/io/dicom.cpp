#include "io/dicom.h"

#include <dirent.h>
#include <gdcmDataSet.h>
#include <gdcmPixmap.h>
#include <gdcmPixmapReader.h>
#include <gdcmReader.h>
#include <gdcmVR.h>
#include <gdcmItem.h>
#include <gdcmSequenceOfItems.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <vector>

#include "io/dicom_precheck.h"

namespace vx {
namespace {

std::string tag_string(const gdcm::DataSet& ds, uint16_t g, uint16_t e) {
  const gdcm::Tag t(g, e);
  if (!ds.FindDataElement(t)) return "";
  const gdcm::DataElement& de = ds.GetDataElement(t);
  const gdcm::ByteValue* bv = de.GetByteValue();
  if (!bv || de.IsEmpty()) return "";
  std::string s(bv->GetPointer(), bv->GetLength());
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  size_t b = s.find_first_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b);
}

std::vector<double> tag_doubles(const gdcm::DataSet& ds, uint16_t g, uint16_t e) {
  std::vector<double> v;
  std::stringstream ss(tag_string(ds, g, e));
  std::string item;
  while (std::getline(ss, item, '\\')) {
    char* end = nullptr;
    double d = std::strtod(item.c_str(), &end);
    if (end == item.c_str()) return {};
    v.push_back(d);
  }
  return v;
}

// The nested data set of item `index` (1-based) of sequence (g, e), or null.
const gdcm::DataSet* seq_item(const gdcm::DataSet& ds, uint16_t g, uint16_t e, size_t index = 1) {
  const gdcm::Tag t(g, e);
  if (!ds.FindDataElement(t)) return nullptr;
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq = ds.GetDataElement(t).GetValueAsSQ();
  if (!sq || sq->GetNumberOfItems() < index) return nullptr;
  return &sq->GetItem(index).GetNestedDataSet();
}

// A functional-group attribute: per-frame first, then shared, then top level.
std::vector<double> group_value(const gdcm::DataSet& top, const gdcm::DataSet* per_frame, uint16_t seq_g,
                                uint16_t seq_e, uint16_t g, uint16_t e) {
  for (const gdcm::DataSet* grp : {per_frame, seq_item(top, 0x5200, 0x9229)}) {
    if (!grp) continue;
    if (const gdcm::DataSet* s = seq_item(*grp, seq_g, seq_e)) {
      std::vector<double> v = tag_doubles(*s, g, e);
      if (!v.empty()) return v;
    }
  }
  return tag_doubles(top, g, e);
}

struct Slice {
  std::array<double, 3> ipp;
  std::vector<float> pixels;
  std::string file;
};

struct Geometry {
  std::array<double, 6> iop{};
  std::array<double, 2> ps{};  // row spacing, column spacing
  int64_t rows = 0, cols = 0;
  double thickness = 0;
};

template <typename T>
void to_float(const char* src, float* dst, int64_t n, double slope, double inter) {
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + i * int64_t(sizeof(T)), sizeof(T));
    dst[i] = static_cast<float>(double(v) * slope + inter);
  }
}

void convert_frame(const gdcm::PixelFormat& pf, const char* src, float* dst, int64_t n, double slope, double inter,
                   const std::string& file) {
  switch (pf.GetScalarType()) {
    case gdcm::PixelFormat::UINT8: to_float<uint8_t>(src, dst, n, slope, inter); break;
    case gdcm::PixelFormat::INT8: to_float<int8_t>(src, dst, n, slope, inter); break;
    case gdcm::PixelFormat::UINT16: to_float<uint16_t>(src, dst, n, slope, inter); break;
    case gdcm::PixelFormat::INT16: to_float<int16_t>(src, dst, n, slope, inter); break;
    case gdcm::PixelFormat::UINT32: to_float<uint32_t>(src, dst, n, slope, inter); break;
    case gdcm::PixelFormat::INT32: to_float<int32_t>(src, dst, n, slope, inter); break;
    case gdcm::PixelFormat::FLOAT32: to_float<float>(src, dst, n, slope, inter); break;
    case gdcm::PixelFormat::FLOAT64: to_float<double>(src, dst, n, slope, inter); break;
    default: fail(Status::unsupported, std::string("unsupported DICOM pixel type ") + pf.GetScalarTypeAsString() + " in '" + file + "'");
  }
}

bool read_geometry(const gdcm::DataSet& top, const gdcm::DataSet* frame, Geometry& g) {
  std::vector<double> iop = group_value(top, frame, 0x0020, 0x9116, 0x0020, 0x0037);
  std::vector<double> ps = group_value(top, frame, 0x0028, 0x9110, 0x0028, 0x0030);
  std::vector<double> th = group_value(top, frame, 0x0028, 0x9110, 0x0018, 0x0050);
  if (iop.size() != 6 || ps.size() != 2) return false;
  std::copy(iop.begin(), iop.end(), g.iop.begin());
  g.ps = {ps[0], ps[1]};
  g.thickness = th.empty() ? 0 : th[0];
  return true;
}

// Reads one file; appends its frames to `slices`. Returns false if it is not a DICOM image.
bool read_file(const std::string& file, std::vector<Slice>& slices, Geometry& geo, std::string& series,
               const std::set<std::string>& seen, size_t max_voxels, bool& multiframe) {
  // GDCM aborts (assert) on some damaged streams: walk the structure first.
  {
    const int fd = ::open(file.c_str(), O_RDONLY);
    if (fd < 0) return false;
    struct stat st;
    if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
      ::close(fd);
      return false;
    }
    const size_t size = static_cast<size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) fail(Status::io_error, "cannot map DICOM file '" + file + "'");
    const DicomPrecheck pre = precheck_dicom(static_cast<const uint8_t*>(map), size);
    ::munmap(map, size);
    if (!pre.problem.empty()) {
      if (!pre.part10) return false;  // not DICOM (no preamble) and not parseable: skip it
      fail(Status::corrupt_file, "damaged DICOM file '" + file + "': " + pre.problem);
    }
  }
  {
    // GDCM's image reader asserts (aborts) on a multi-frame file whose orientation is in
    // neither the shared nor the first per-frame functional group (found by fuzzing):
    // check the header, up to the pixel data, first. We need the orientation anyway.
    gdcm::Reader header;
    header.SetFileName(file.c_str());
    if (!header.ReadUpToTag(gdcm::Tag(0x7fe0, 0x0010))) return false;
    const gdcm::DataSet& hds = header.GetFile().GetDataSet();
    // Image pixel module values GDCM's PixelFormat asserts on (SamplesPerPixel <= 4, bits
    // stored <= allocated, ...): US, exactly 2 bytes, in the range we read at all.
    auto us = [&hds, &file](uint16_t e, int lo, int hi, const char* name) {
      const gdcm::Tag t(0x0028, e);
      if (!hds.FindDataElement(t)) return -1;
      const gdcm::ByteValue* bv = hds.GetDataElement(t).GetByteValue();
      if (!bv || bv->GetLength() != 2) fail(Status::corrupt_file, std::string("malformed ") + name + " in '" + file + "'");
      const unsigned char* b = reinterpret_cast<const unsigned char*>(bv->GetPointer());
      const int v = b[0] | b[1] << 8;
      if (v < lo || v > hi)
        fail(Status::unsupported, std::string(name) + " = " + std::to_string(v) + " is not supported in '" + file + "'");
      return v;
    };
    // GDCM's Attribute<> asserts that an element's VR is the dictionary's: check the VRs of
    // the image pixel module elements PixmapReader reads (a mutated VR aborted the process).
    static const std::pair<uint16_t, gdcm::VR::VRType> kPixelModule[] = {
        {0x0002, gdcm::VR::US}, {0x0004, gdcm::VR::CS}, {0x0006, gdcm::VR::US}, {0x0008, gdcm::VR::IS},
        {0x0010, gdcm::VR::US}, {0x0011, gdcm::VR::US}, {0x0100, gdcm::VR::US}, {0x0101, gdcm::VR::US},
        {0x0102, gdcm::VR::US}, {0x0103, gdcm::VR::US}};
    for (const auto& [e, vr] : kPixelModule) {
      const gdcm::Tag t(0x0028, e);
      if (!hds.FindDataElement(t)) continue;
      const gdcm::DataElement& de = hds.GetDataElement(t);
      char name[16];
      std::snprintf(name, sizeof name, "(0028,%04x)", unsigned(e));
      if (de.GetVR() != gdcm::VR::INVALID && de.GetVR() != vr)
        fail(Status::corrupt_file, std::string("DICOM element ") + name + " has VR " +
                                       gdcm::VR::GetVRString(de.GetVR()) + " in '" + file + "'");
      if (vr == gdcm::VR::US && (!de.GetByteValue() || de.GetByteValue()->GetLength() != 2))
        fail(Status::corrupt_file, std::string("malformed DICOM element ") + name + " in '" + file + "'");
    }
    us(0x0002, 1, 1, "SamplesPerPixel");
    const int allocated = us(0x0100, 8, 64, "BitsAllocated");
    const int stored = us(0x0101, 1, 64, "BitsStored");
    const int high = us(0x0102, 0, 63, "HighBit");
    us(0x0103, 0, 1, "PixelRepresentation");
    if ((allocated > 0 && allocated % 8 != 0) || (allocated > 0 && stored > allocated) || (stored > 0 && high >= stored))
      fail(Status::corrupt_file, "inconsistent BitsAllocated / BitsStored / HighBit in '" + file + "'");
    if (hds.FindDataElement(gdcm::Tag(0x5200, 0x9230)) &&
        group_value(hds, seq_item(hds, 0x5200, 0x9230, 1), 0x0020, 0x9116, 0x0020, 0x0037).size() != 6)
      fail(Status::corrupt_file, "multi-frame DICOM without ImageOrientationPatient in '" + file + "'");
  }
  // PixmapReader, not ImageReader: we compute the geometry ourselves, and ImageReader's
  // geometry helpers (spacing, origin, direction cosines of enhanced files) assert() on
  // inconsistent functional groups, aborting the process (found by dicom_read_fuzz).
  gdcm::PixmapReader reader;
  reader.SetFileName(file.c_str());
  if (!reader.Read()) return false;
  const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
  const gdcm::Pixmap& img = reader.GetPixmap();
  const std::string where = " in '" + file + "'";
  series = tag_string(ds, 0x0020, 0x000e);
  if (!seen.empty() && !seen.count(series))
    fail(Status::invalid_argument, "folder mixes DICOM series (SeriesInstanceUID " + *seen.begin() + " and " + series +
                                       " in '" + file + "'); give one series per folder");
  const gdcm::PixelFormat pf = img.GetPixelFormat();
  if (pf.GetSamplesPerPixel() != 1) fail(Status::unsupported, "colour DICOM images are not supported" + where);
  const int64_t cols = img.GetDimension(0), rows = img.GetDimension(1);
  const int64_t frames = img.GetNumberOfDimensions() > 2 ? img.GetDimension(2) : 1;
  if (rows <= 0 || cols <= 0 || frames <= 0) fail(Status::corrupt_file, "empty DICOM image" + where);
  if (double(rows) * double(cols) * double(frames) > double(max_voxels))
    fail(Status::limit_exceeded, "DICOM image larger than the voxel limit" + where);
  // Native (uncompressed) pixels must all be in the file before anything is allocated: a
  // header claiming more rows/columns/frames than stored made GDCM's RAW codec read past
  // the end of its buffer (heap-buffer-overflow) after we had allocated the claimed size.
  const size_t expected = size_t(rows * cols * frames) * pf.GetPixelSize();
  if (const gdcm::ByteValue* bv = img.GetDataElement().GetByteValue())
    if (bv->GetLength() < expected)
      fail(Status::corrupt_file, "DICOM pixel data holds " + std::to_string(bv->GetLength()) + " bytes but rows x columns x frames needs " +
                                     std::to_string(expected) + where);
  std::vector<char> buf(img.GetBufferLength());
  if (buf.size() != expected)
    fail(Status::corrupt_file, "DICOM pixel data size does not match rows x columns x frames" + where);
  if (!img.GetBuffer(buf.data())) fail(Status::unsupported, "GDCM cannot decode the pixel data" + where);
  multiframe = frames > 1;
  const int64_t n = rows * cols;
  const gdcm::DataSet* pf_first = seq_item(ds, 0x5200, 0x9230, 1);
  if (frames > 1 && !pf_first)
    fail(Status::unsupported, "multi-frame DICOM without per-frame functional groups" + where);
  for (int64_t f = 0; f < frames; ++f) {
    const gdcm::DataSet* pfg = frames > 1 ? seq_item(ds, 0x5200, 0x9230, static_cast<size_t>(f + 1)) : nullptr;
    if (frames > 1 && !pfg) fail(Status::corrupt_file, "missing per-frame functional group " + std::to_string(f + 1) + where);
    Geometry g;
    g.rows = rows, g.cols = cols;
    if (!read_geometry(ds, pfg, g))
      fail(Status::corrupt_file, "missing ImageOrientationPatient or PixelSpacing" + where);
    std::vector<double> ipp = group_value(ds, pfg, 0x0020, 0x9113, 0x0020, 0x0032);
    if (ipp.size() != 3) fail(Status::corrupt_file, "missing ImagePositionPatient" + where);
    std::vector<double> slope = group_value(ds, pfg, 0x0028, 0x9145, 0x0028, 0x1053);
    std::vector<double> inter = group_value(ds, pfg, 0x0028, 0x9145, 0x0028, 0x1052);
    if (slices.empty()) {
      geo = g;
    } else {
      bool same = geo.rows == g.rows && geo.cols == g.cols;
      for (int i = 0; i < 6; ++i) same = same && std::fabs(geo.iop[i] - g.iop[i]) < 1e-4;
      for (int i = 0; i < 2; ++i) same = same && std::fabs(geo.ps[i] - g.ps[i]) < 1e-4;
      if (!same) fail(Status::corrupt_file, "slice geometry (size, orientation or pixel spacing) differs" + where);
    }
    for (const std::vector<double>* v : {&slope, &inter})
      if (!v->empty() && !std::isfinite((*v)[0])) fail(Status::corrupt_file, "non-finite rescale slope or intercept" + where);
    Slice s;
    s.ipp = {ipp[0], ipp[1], ipp[2]};
    s.file = file;
    s.pixels.resize(static_cast<size_t>(n));
    convert_frame(pf, buf.data() + f * n * int64_t(pf.GetPixelSize()), s.pixels.data(), n,
                  slope.empty() || slope[0] == 0 ? 1.0 : slope[0], inter.empty() ? 0.0 : inter[0], file);
    slices.push_back(std::move(s));
  }
  return true;
}

bool is_directory(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

Volume read_dicom(const std::string& path, const DicomReadOptions& opts) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) fail(Status::io_error, "DICOM path does not exist: '" + path + "'");
  std::vector<std::string> files;
  if (is_directory(path)) {
    DIR* d = ::opendir(path.c_str());
    if (!d) fail(Status::io_error, "cannot list DICOM folder '" + path + "'");
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string full = path + "/" + name;
      if (!is_directory(full)) files.push_back(full);
    }
    ::closedir(d);
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }

  std::vector<Slice> slices;
  Geometry geo;
  std::set<std::string> series;
  int images = 0;
  bool multiframe = false;
  for (const std::string& f : files) {
    std::string uid;
    bool mf = false;
    if (!read_file(f, slices, geo, uid, series, opts.max_voxels, mf)) continue;
    ++images;
    multiframe = multiframe || mf;
    series.insert(uid);
    if (series.size() > 1)
      fail(Status::invalid_argument, "folder '" + path + "' mixes DICOM series (SeriesInstanceUID " + *series.begin() +
                                         " and " + *series.rbegin() + "); give one series per folder");
    if (double(slices.size()) * double(geo.rows * geo.cols) > double(opts.max_voxels))
      fail(Status::limit_exceeded, "DICOM series larger than the voxel limit in '" + path + "'");
  }
  if (slices.empty()) fail(Status::corrupt_file, "no readable DICOM image in '" + path + "'");
  if (multiframe && images > 1)
    fail(Status::unsupported, "folder '" + path + "' mixes multi-frame and other DICOM images");

  const std::array<double, 3> r = {geo.iop[0], geo.iop[1], geo.iop[2]}, c = {geo.iop[3], geo.iop[4], geo.iop[5]};
  const std::array<double, 3> nrm = {r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]};
  auto proj = [&](const Slice& s) { return s.ipp[0] * nrm[0] + s.ipp[1] * nrm[1] + s.ipp[2] * nrm[2]; };
  std::stable_sort(slices.begin(), slices.end(), [&](const Slice& a, const Slice& b) { return proj(a) < proj(b); });
  const size_t n = slices.size();
  for (size_t i = 1; i < n; ++i)
    if (std::fabs(proj(slices[i]) - proj(slices[i - 1])) < 1e-4)
      fail(Status::corrupt_file, "two DICOM slices share the position " + std::to_string(proj(slices[i])) + " mm ('" +
                                     slices[i - 1].file + "', '" + slices[i].file + "')");

  Mat4 lps = mat4_identity();
  std::array<double, 3> step{};
  if (n > 1) {
    for (int a = 0; a < 3; ++a) step[a] = (slices.back().ipp[a] - slices.front().ipp[a]) / double(n - 1);
  } else {
    const double t = geo.thickness > 0 ? geo.thickness : 1.0;
    for (int a = 0; a < 3; ++a) step[a] = nrm[a] * t;
  }
  for (int a = 0; a < 3; ++a) {
    lps[a * 4 + 0] = r[a] * geo.ps[1];
    lps[a * 4 + 1] = c[a] * geo.ps[0];
    lps[a * 4 + 2] = step[a];
    lps[a * 4 + 3] = slices.front().ipp[a];
  }
  Volume v;
  v.affine = lps;
  for (int col = 0; col < 4; ++col) v.affine[col] = -lps[col], v.affine[4 + col] = -lps[4 + col];
  for (double x : v.affine)  // "1e999" or "nan" in a DS value parses to a non-finite number
    if (!std::isfinite(x)) fail(Status::corrupt_file, "non-finite DICOM geometry (position, orientation or spacing) in '" + path + "'");
  if (!(voxel_volume_mm3(v.affine) > 0)) fail(Status::corrupt_file, "degenerate DICOM geometry in '" + path + "'");
  v.header.qform_code = v.header.sform_code = 1;
  v.header.qform = v.header.sform = v.affine;
  v.header.source_datatype = 16;
  v.data = Tensor::empty(Shape{static_cast<int64_t>(n), geo.rows, geo.cols});
  const size_t plane = static_cast<size_t>(geo.rows * geo.cols);
  for (size_t k = 0; k < n; ++k) std::copy(slices[k].pixels.begin(), slices[k].pixels.end(), v.voxels() + k * plane);
  return v;
}

}  // namespace vx
