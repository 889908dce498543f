#include "io/dicom.h"

#include <gdcmDataSet.h>
#include <gdcmSequenceOfFragments.h>
#include <gdcmReader.h>
#include <gdcmItem.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmTransferSyntax.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <vector>

#include "io/dicom_codec.h"
#include "io/dicom_precheck.h"
#include "io/dir_walk.h"
#include "io/dicom_mosaic.h"
#include "io/dicom_rle.h"
#include "io/dicom_series.h"
#include "io/dicomdir.h"
#include "io/dicom_tags.h"
#include "io/slice_grid.h"

namespace vx {
namespace {

struct Slice {
  std::array<double, 3> ipp;
  std::vector<float> pixels;
  std::string file;
  std::string label;  // "InstanceNumber 12 ('f.dcm')" or "frame 5": names it in messages
};

struct Geometry {
  std::array<double, 6> iop{};
  std::array<double, 2> ps{};  // row spacing, column spacing
  int64_t rows = 0, cols = 0;
  double thickness = 0;
};

// How decoded samples are stored: integer samples of `bytes` bytes, of which bits
// [high_bit - bits_stored + 1, high_bit] hold the value (the rest may carry overlay junk).
// Samples are little endian by then: GDCM swaps big-endian OW data when it reads the file,
// and the RLE decoder writes little endian. read_pixel_module has checked that `bytes` is
// 1, 2, 4 or 8 and that the stored bits fit in it.
struct NativeLayout {
  int bytes;
  bool is_signed;
  int bits_stored, high_bit;
};

void convert_frame(const NativeLayout& l, const char* src, float* dst, int64_t n, double slope, double inter) {
  const int bits = std::clamp(l.bits_stored, 1, 8 * l.bytes);
  const int low = std::clamp(l.high_bit - bits + 1, 0, 8 * l.bytes - bits);
  const uint64_t mask = bits == 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1;
  const auto* p = reinterpret_cast<const unsigned char*>(src);
  for (int64_t i = 0; i < n; ++i, p += l.bytes) {
    uint64_t raw = 0;
    for (int b = 0; b < l.bytes; ++b) raw |= uint64_t(p[b]) << (8 * b);
    const uint64_t u = (raw >> low) & mask;
    // Two's complement sign extension from `bits` bits.
    const int64_t v = l.is_signed && bits < 64 && (u >> (bits - 1)) ? int64_t(u | ~mask) : int64_t(u);
    dst[i] = static_cast<float>((l.is_signed || bits < 64 ? double(v) : double(u)) * slope + inter);
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

// The image pixel module of a grey-level image, checked so that every later size and shift
// is valid: one sample, 8/16/32/64-bit allocated, stored <= allocated, high bit inside it.
struct PixelModule {
  int64_t rows = 0, cols = 0, frames = 1;
  int allocated = 0, stored = 0, high = 0, representation = 0;
};

// A US element of group 0028 (GDCM's parser has put it in host order), or `absent`.
int pixel_module_us(const gdcm::DataSet& ds, uint16_t e, const char* name, int absent, int lo, int hi,
                    const std::string& where) {
  const gdcm::Tag t(0x0028, e);
  if (!ds.FindDataElement(t)) {
    if (absent >= 0) return absent;
    fail(Status::corrupt_file, std::string("DICOM image without ") + name + where);
  }
  const gdcm::ByteValue* bv = ds.GetDataElement(t).GetByteValue();
  if (!bv || bv->GetLength() != 2) fail(Status::corrupt_file, std::string("malformed DICOM ") + name + where);
  uint16_t v;
  std::memcpy(&v, bv->GetPointer(), 2);
  if (v < lo || v > hi)
    fail(Status::unsupported, std::string("DICOM ") + name + " = " + std::to_string(v) + " is not supported" + where);
  return v;
}

PixelModule read_pixel_module(const gdcm::DataSet& ds, const std::string& where) {
  PixelModule pm;
  pixel_module_us(ds, 0x0002, "SamplesPerPixel", 1, 1, 1, where);  // colour is not a scan we read
  pm.rows = pixel_module_us(ds, 0x0010, "Rows", -1, 1, 65535, where);
  pm.cols = pixel_module_us(ds, 0x0011, "Columns", -1, 1, 65535, where);
  pm.allocated = pixel_module_us(ds, 0x0100, "BitsAllocated", -1, 8, 64, where);
  pm.stored = pixel_module_us(ds, 0x0101, "BitsStored", pm.allocated, 1, 64, where);
  pm.high = pixel_module_us(ds, 0x0102, "HighBit", pm.stored - 1, 0, 63, where);
  pm.representation = pixel_module_us(ds, 0x0103, "PixelRepresentation", 0, 0, 1, where);
  if (pm.allocated % 8 != 0 || (pm.allocated & (pm.allocated - 1)) != 0 || pm.stored > pm.allocated ||
      pm.high >= pm.allocated || pm.high + 1 < pm.stored)
    fail(Status::corrupt_file, "inconsistent BitsAllocated " + std::to_string(pm.allocated) + " / BitsStored " +
                                   std::to_string(pm.stored) + " / HighBit " + std::to_string(pm.high) + where);
  const std::string frames = tag_string(ds, 0x0028, 0x0008);
  if (!frames.empty()) {
    char* end = nullptr;
    const long v = std::strtol(frames.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > 1000000) fail(Status::corrupt_file, "invalid NumberOfFrames '" + frames + "'" + where);
    pm.frames = v;
  }
  const std::string pi = tag_string(ds, 0x0028, 0x0004);
  if (!pi.empty() && pi != "MONOCHROME1" && pi != "MONOCHROME2")
    fail(Status::unsupported, "DICOM PhotometricInterpretation '" + pi + "' is not a grey-level scan" + where);
  return pm;
}

// Reads one file; appends its frames to `slices`. Returns false if it is not a DICOM image.
bool read_file(const std::string& file, std::vector<Slice>& slices, Geometry& geo, std::string& series,
               const std::set<std::string>& seen, size_t max_voxels, bool& multiframe, bool& lossy) {
  if (!precheck_dicom_file(file)) return false;  // GDCM aborts (assert) on some damaged streams
  // GDCM's image readers (PixmapReader, ImageReader) and codecs assert() on inconsistent
  // headers and damaged streams in dozens of places (typed attributes with a mutated VR, icon
  // sequences, LUTs, overlays, RLE segments) and abort the process; fuzzing kept finding new
  // ones. So GDCM only parses the (prechecked) file; the pixel module is read and checked
  // here, native and RLE pixels are decoded here, and JPEG-family streams go to GDCM's codec
  // classes only after io/dicom_codec.cpp has checked them against the pixel module.
  gdcm::Reader reader;
  reader.SetFileName(file.c_str());
  if (!reader.Read()) return false;
  const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
  const std::string where = " in '" + file + "'";
  const gdcm::Tag pixel_tag(0x7fe0, 0x0010);
  if (!ds.FindDataElement(pixel_tag) || !ds.FindDataElement(gdcm::Tag(0x0028, 0x0010))) return false;  // not an image
  const PixelModule pm = read_pixel_module(ds, where);
  // A Siemens mosaic tiles a whole volume into one image: unpacked into its slices here.
  const Mosaic mosaic = mosaic_geometry(ds, pm.rows, pm.cols, pm.frames, where);
  series = tag_string(ds, 0x0020, 0x000e);
  if (!seen.empty() && !seen.count(series))
    fail(Status::invalid_argument, "folder mixes DICOM series (SeriesInstanceUID " + *seen.begin() + " and " + series +
                                       " in '" + file + "'); give one series per folder");
  const int64_t rows = pm.rows, cols = pm.cols, frames = pm.frames;
  if (double(rows) * double(cols) * double(frames) > double(max_voxels))
    fail(Status::limit_exceeded, "DICOM image larger than the voxel limit" + where);
  const int64_t bytes = pm.allocated / 8;
  const size_t expected = size_t(rows * cols * frames * bytes);
  const gdcm::TransferSyntax ts = reader.GetFile().GetHeader().GetDataSetTransferSyntax();
  const gdcm::DataElement& pixel = ds.GetDataElement(pixel_tag);
  std::vector<char> buf;
  bool decoded = false;  // by a JPEG-family codec
  if (!ts.IsEncapsulated()) {
    // Native pixels must all be in the file before anything is allocated: a header claiming
    // more rows/columns/frames than stored must not make us read past the value.
    const gdcm::ByteValue* bv = pixel.GetByteValue();
    if (!bv) fail(Status::corrupt_file, "DICOM pixel data is missing or encapsulated in a native transfer syntax" + where);
    if (bv->GetLength() < expected)
      fail(Status::corrupt_file, "DICOM pixel data holds " + std::to_string(bv->GetLength()) +
                                     " bytes but rows x columns x frames needs " + std::to_string(expected) + where);
    // GDCM's reader swapped a big-endian file's pixel data as 16-bit words (OW) only.
    if (ts.GetSwapCode() == gdcm::SwapCode::BigEndian && bytes > 2)
      fail(Status::unsupported, "big-endian DICOM with samples wider than 16 bits is not supported" + where);
    buf.assign(bv->GetPointer(), bv->GetPointer() + expected);
  } else if (ts == gdcm::TransferSyntax::RLELossless) {
    const gdcm::SequenceOfFragments* frags = pixel.GetSequenceOfFragments();
    if (!frags) fail(Status::corrupt_file, "RLE pixel data is not encapsulated in fragments" + where);
    if (frags->GetNumberOfFragments() != size_t(frames))
      fail(Status::corrupt_file, "RLE pixel data has " + std::to_string(frags->GetNumberOfFragments()) +
                                     " fragments for " + std::to_string(frames) + " frame(s)" + where);
    buf.resize(expected);
    for (int64_t f = 0; f < frames; ++f) {
      const gdcm::ByteValue* fv = frags->GetFragment(size_t(f)).GetByteValue();
      const std::string err =
          fv ? decode_rle_frame(reinterpret_cast<const uint8_t*>(fv->GetPointer()), fv->GetLength(), rows * cols,
                                int(bytes), reinterpret_cast<uint8_t*>(buf.data()) + f * rows * cols * bytes)
             : "empty RLE fragment";
      if (!err.empty()) fail(Status::corrupt_file, "damaged RLE frame " + std::to_string(f + 1) + ": " + err + where);
    }
  } else {
    // JPEG / JPEG-LS through GDCM's codecs, JPEG 2000 through OpenJPEG, behind our checks (io/dicom_codec.h).
    const gdcm::SequenceOfFragments* frags = pixel.GetSequenceOfFragments();
    if (!frags) fail(Status::corrupt_file, "compressed pixel data is not encapsulated in fragments" + where);
    const std::string syntax = gdcm::TransferSyntax::GetTSString(ts);
    if (!codec_syntax_supported(syntax))
      fail(Status::unsupported, "compressed DICOM transfer syntax " + syntax +
                                    " is not supported (JPEG, JPEG-LS, JPEG 2000, RLE, deflated and uncompressed are); "
                                    "decompress first, e.g. gdcmconv --raw" + where);
    std::vector<Fragment> parts;
    for (size_t i = 0; i < frags->GetNumberOfFragments(); ++i) {
      const gdcm::ByteValue* fv = frags->GetFragment(i).GetByteValue();
      if (!fv || fv->GetLength() == 0) fail(Status::corrupt_file, "empty compressed pixel data fragment" + where);
      parts.push_back({reinterpret_cast<const uint8_t*>(fv->GetPointer()), fv->GetLength()});
    }
    const EncapsulatedImage img{syntax, rows, cols, frames, pm.allocated, pm.stored, pm.high, pm.representation};
    buf = decode_encapsulated(img, parts, where, lossy);
    if (tag_string(ds, 0x0028, 0x2110) == "01") lossy = true;  // LossyImageCompression
    decoded = true;
  }
  // Codecs write the value in the low BitsStored bits, whatever HighBit says.
  const NativeLayout layout{int(bytes), pm.representation == 1, pm.stored, decoded ? pm.stored - 1 : pm.high};
  multiframe = frames > 1 || mosaic.slices > 0;
  const int64_t n = rows * cols;
  const gdcm::DataSet* pf_first = seq_item(ds, 0x5200, 0x9230, 1);
  if (frames > 1 && !pf_first)
    fail(Status::unsupported, "multi-frame DICOM without per-frame functional groups" + where);
  for (int64_t f = 0; f < frames; ++f) {
    const gdcm::DataSet* pfg = frames > 1 ? seq_item(ds, 0x5200, 0x9230, static_cast<size_t>(f + 1)) : nullptr;
    if (frames > 1 && !pfg) fail(Status::corrupt_file, "missing per-frame functional group " + std::to_string(f + 1) + where);
    Geometry g;
    g.rows = mosaic.slices ? mosaic.tile_rows : rows, g.cols = mosaic.slices ? mosaic.tile_cols : cols;
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
    if (frames > 1) {
      s.label = "frame " + std::to_string(f + 1);
    } else {
      const std::string inst = tag_string(ds, 0x0020, 0x0013);
      s.label = (inst.empty() ? std::string("file") : "InstanceNumber " + inst) + " ('" +
                file.substr(file.find_last_of('/') + 1) + "')";
    }
    s.pixels.resize(static_cast<size_t>(n));
    const char* frame = buf.data() + f * n * bytes;
    const double sl = slope.empty() || slope[0] == 0 ? 1.0 : slope[0], ic = inter.empty() ? 0.0 : inter[0];
    convert_frame(layout, frame, s.pixels.data(), n, sl, ic);
    for (int64_t k = 0; k < mosaic.slices; ++k) {
      Slice t;
      for (int a = 0; a < 3; ++a) t.ipp[a] = mosaic.first_ipp[a] + double(k) * mosaic.step[a];
      t.file = file;
      t.label = "mosaic slice " + std::to_string(k + 1) + " of " + s.label;
      t.pixels.resize(size_t(mosaic.tile_rows * mosaic.tile_cols));
      copy_mosaic_tile(mosaic, s.pixels.data(), cols, k, t.pixels.data());
      slices.push_back(std::move(t));
    }
    if (!mosaic.slices) slices.push_back(std::move(s));
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
  if (::stat(split_series_selector(path).first.c_str(), &st) != 0)
    fail(Status::io_error, "DICOM path does not exist: '" + path + "'");
  const auto [where, selector] = split_series_selector(path);
  std::vector<std::string> files;
  if (is_directory(where) || is_dicomdir_file(where)) {
    // The DICOMDIR's files, else recursive and bounded (io/dir_walk.h); pipes, sockets and
    // devices skipped; one series.
    files = select_series(list_dicom_series(where), selector, where).files;
  } else if (!selector.empty()) {
    fail(Status::invalid_argument, "a series selector (" + path + ") needs a folder");
  } else if (is_regular_file(where)) {
    files.push_back(where);
  } else {
    fail(Status::io_error, "'" + path + "' is neither a folder nor a regular file (a pipe, socket or device is not read)");
  }

  std::vector<Slice> slices;
  Geometry geo;
  std::set<std::string> series;
  int images = 0;
  bool multiframe = false, lossy = false;
  for (const std::string& f : files) {
    std::string uid;
    bool mf = false;
    if (!read_file(f, slices, geo, uid, series, opts.max_voxels, mf, lossy)) continue;
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
    fail(Status::unsupported, "folder '" + path + "' holds several images of which one is multi-frame or a Siemens mosaic "
                                  "(a time series of volumes is 4-D, which is not read)");

  const std::array<double, 3> r = {geo.iop[0], geo.iop[1], geo.iop[2]}, c = {geo.iop[3], geo.iop[4], geo.iop[5]};
  std::array<double, 3> nrm = {r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]};
  const double len = std::sqrt(nrm[0] * nrm[0] + nrm[1] * nrm[1] + nrm[2] * nrm[2]);
  if (!(len > 1e-6) || !std::isfinite(len)) fail(Status::corrupt_file, "degenerate DICOM ImageOrientationPatient in '" + path + "'");
  for (double& x : nrm) x /= len;
  auto proj = [&](const Slice& s) { return s.ipp[0] * nrm[0] + s.ipp[1] * nrm[1] + s.ipp[2] * nrm[2]; };
  std::stable_sort(slices.begin(), slices.end(), [&](const Slice& a, const Slice& b) { return proj(a) < proj(b); });
  const size_t n = slices.size();
  for (size_t i = 1; i < n; ++i)
    if (std::fabs(proj(slices[i]) - proj(slices[i - 1])) < 1e-4)
      fail(Status::corrupt_file, "two DICOM slices share the position " + std::to_string(proj(slices[i])) + " mm ('" +
                                     slices[i - 1].file + "', '" + slices[i].file + "')");
  std::vector<std::array<double, 3>> ipps;
  std::vector<std::string> labels;
  for (const Slice& s : slices) ipps.push_back(s.ipp), labels.push_back(s.label);
  const SliceGrid grid = plan_slice_grid(ipps, labels, nrm, geo.thickness, " in '" + path + "'");
  if (!grid.regular && !opts.resample_uneven_slices)
    fail(Status::corrupt_file, "uneven DICOM slice positions in '" + path + "': " + grid.problem +
                                   ". Refused rather than placed on a wrong grid; read with resample_uneven_slices (CLI "
                                   "--resample-uneven-slices) to resample onto a regular grid in world space");
  const int64_t nk = grid.count();
  if (double(nk) * double(geo.rows * geo.cols) > double(opts.max_voxels))
    fail(Status::limit_exceeded, "resampled DICOM series larger than the voxel limit in '" + path + "'");

  Mat4 lps = mat4_identity();
  for (int a = 0; a < 3; ++a) {
    lps[a * 4 + 0] = r[a] * geo.ps[1];
    lps[a * 4 + 1] = c[a] * geo.ps[0];
    lps[a * 4 + 2] = grid.step[a];
    lps[a * 4 + 3] = grid.origin[a];
  }
  Volume v;
  v.affine = lps;
  for (int col = 0; col < 4; ++col) v.affine[col] = -lps[col], v.affine[4 + col] = -lps[4 + col];
  for (double x : v.affine)  // "1e999" or "nan" in a DS value parses to a non-finite number
    if (!std::isfinite(x)) fail(Status::corrupt_file, "non-finite DICOM geometry (position, orientation or spacing) in '" + path + "'");
  if (!(voxel_volume_mm3(v.affine) > 0)) fail(Status::corrupt_file, "degenerate DICOM geometry in '" + path + "'");
  v.header.qform_code = v.header.sform_code = 1;
  if (lossy)
    v.header.warnings.push_back("DICOM series '" + path + "' was lossy-compressed (JPEG baseline/extended, JPEG-LS "
                                "near-lossless, JPEG 2000 .91 or LossyImageCompression 01): its voxels are the "
                                "codec's approximation of the scan");
  v.header.qform = v.header.sform = v.affine;
  v.header.source_datatype = 16;
  v.data = Tensor::empty(Shape{nk, geo.rows, geo.cols});
  const size_t plane = static_cast<size_t>(geo.rows * geo.cols);
  if (grid.regular) {
    for (size_t k = 0; k < n; ++k) std::copy(slices[k].pixels.begin(), slices[k].pixels.end(), v.voxels() + k * plane);
  } else {
    std::vector<const float*> src;
    for (const Slice& s : slices) src.push_back(s.pixels.data());
    resample_slices(grid, src, int64_t(plane), v.voxels());
    v.header.warnings.push_back(describe_resampling(grid, path));
  }
  return v;
}

}  // namespace vx
