#include "io/dicom_codec.h"

#include <gdcmDataElement.h>
#include <gdcmJPEGCodec.h>
#include <gdcmJPEGLSCodec.h>
#include <gdcmPhotometricInterpretation.h>
#include <gdcmPixelFormat.h>
#include <gdcmSequenceOfFragments.h>
#include <gdcmTransferSyntax.h>

#include <cstring>

#include "core/error.h"
#include "io/dicom_j2k.h"

namespace vx {
namespace {

enum class Family { none, jpeg, jpegls, j2k };

struct SyntaxInfo {
  const char* uid;
  Family family;
  bool lossy;  // lossy by definition (other lossy streams are told by the codec or the wavelet)
};

const SyntaxInfo kSyntaxes[] = {
    {"1.2.840.10008.1.2.4.50", Family::jpeg, true},     // JPEG baseline (process 1)
    {"1.2.840.10008.1.2.4.51", Family::jpeg, true},     // JPEG extended (process 2 & 4)
    {"1.2.840.10008.1.2.4.57", Family::jpeg, false},    // JPEG lossless (process 14)
    {"1.2.840.10008.1.2.4.70", Family::jpeg, false},    // JPEG lossless, first-order prediction
    {"1.2.840.10008.1.2.4.80", Family::jpegls, false},  // JPEG-LS lossless
    {"1.2.840.10008.1.2.4.81", Family::jpegls, true},   // JPEG-LS near-lossless
    {"1.2.840.10008.1.2.4.90", Family::j2k, false},     // JPEG 2000 lossless only
    {"1.2.840.10008.1.2.4.91", Family::j2k, true},      // JPEG 2000 (may be lossy even with the 5-3 wavelet)
};

const SyntaxInfo* find_syntax(const std::string& uid) {
  for (const SyntaxInfo& s : kSyntaxes)
    if (uid == s.uid) return &s;
  return nullptr;
}

uint32_t be16(const uint8_t* p) { return uint32_t(p[0]) << 8 | p[1]; }
uint32_t be32(const uint8_t* p) { return be16(p) << 16 | be16(p + 2); }

struct StreamHeader {
  uint32_t rows = 0, cols = 0, components = 0, precision = 0;
};

// The frame header of a JPEG or JPEG-LS stream (SOFn / SOF55), or a problem. Walks every
// marker segment up to the first scan: only tables, restart interval, application and comment
// segments and one frame header may come before it, with no stray bytes between them. For the
// JPEG (libjpeg) family, `clean` gets the stream without its APPn / COM segments: GDCM's
// wrapper assert()s (aborts) on any warning libjpeg gives while reading the header, and those
// come from application segments (a JFIF version it does not know) and stray bytes.
std::string jpeg_header(const uint8_t* p, size_t n, StreamHeader& h, std::vector<uint8_t>* clean) {
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return "stream does not start with a JPEG SOI marker";
  if (clean) clean->assign(p, p + 2);
  size_t pos = 2;
  bool have_sof = false;
  while (pos + 4 <= n) {
    if (p[pos] != 0xFF) return "JPEG marker expected at byte " + std::to_string(pos);
    const uint8_t m = p[pos + 1];
    if (m == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    const size_t len = be16(p + pos + 2);
    if (len < 2 || pos + 2 + len > n) return "JPEG marker segment runs past the fragment";
    const bool sof = (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) || m == 0xF7;
    const bool app = (m >= 0xE0 && m <= 0xEF) || m == 0xFE;
    if (m == 0xDA) {
      if (!have_sof) return "JPEG stream has no frame header before its scan";
      if (clean) clean->insert(clean->end(), p + pos, p + n);
      return "";
    }
    if (sof) {
      if (have_sof) return "JPEG stream has two frame headers";
      if (len < 8) return "JPEG frame header too short";
      const uint8_t* s = p + pos + 4;
      h.precision = s[0], h.rows = be16(s + 1), h.cols = be16(s + 3), h.components = s[5];
      have_sof = true;
    } else if (!app && m != 0xC4 && m != 0xCC && m != 0xDB && m != 0xDD && m != 0xF8) {
      return "unexpected JPEG marker FF" + std::to_string(m) + " before the scan";
    }
    if (clean && !app) clean->insert(clean->end(), p + pos, p + pos + 2 + len);
    pos += 2 + len;
  }
  return "JPEG stream ends before its scan";
}

// The SIZ marker of a JPEG 2000 codestream (bare, or inside a JP2 file's boxes), or a problem.
std::string j2k_header(const uint8_t* p, size_t n, StreamHeader& h) {
  size_t pos = 0;
  const size_t scan = n < 65536 ? n : 65536;  // JP2 header boxes come first and are small
  while (pos + 4 <= scan && !(p[pos] == 0xFF && p[pos + 1] == 0x4F && p[pos + 2] == 0xFF && p[pos + 3] == 0x51)) ++pos;
  if (pos + 4 > scan) return "no JPEG 2000 codestream (SOC + SIZ markers) found";
  const uint8_t* s = p + pos + 4;
  if (size_t(s - p) + 40 > n) return "JPEG 2000 SIZ marker cut short";
  const uint32_t len = be16(s), xsiz = be32(s + 4), ysiz = be32(s + 8), xo = be32(s + 12), yo = be32(s + 16);
  const uint32_t xt = be32(s + 20), yt = be32(s + 24), xto = be32(s + 28), yto = be32(s + 32), csiz = be16(s + 36);
  if (len < 41 || size_t(s - p) + len > n || csiz < 1) return "malformed JPEG 2000 SIZ marker";
  if (xo >= xsiz || yo >= ysiz || xt == 0 || yt == 0 || xto > xo || yto > yo) return "invalid JPEG 2000 image or tile grid";
  // A tiny tile size makes the decoder allocate per-tile state for billions of tiles.
  const double tiles = double((xsiz - xto + xt - 1) / xt) * double((ysiz - yto + yt - 1) / yt);
  if (tiles > 65536) return "JPEG 2000 stream declares " + std::to_string(uint64_t(tiles)) + " tiles";
  h.cols = xsiz - xo, h.rows = ysiz - yo, h.components = csiz;
  h.precision = (s[38] & 0x7F) + 1u;
  if (s[39] != 1 || s[40] != 1) return "JPEG 2000 component is subsampled";
  return "";
}

// Runs one GDCM codec on one frame's fragments; the decoded bytes, or a problem.
template <class Codec>
std::string run_codec(Codec& codec, const EncapsulatedImage& img, const Fragment* frags, size_t count,
                      std::vector<char>& out, bool& lossy) {
  const gdcm::PixelFormat pf(1, uint16_t(img.allocated), uint16_t(img.stored), uint16_t(img.stored - 1),
                             uint16_t(img.representation));
  codec.SetPhotometricInterpretation(gdcm::PhotometricInterpretation::MONOCHROME2);
  codec.SetPlanarConfiguration(0);
  codec.SetNumberOfDimensions(2);
  const unsigned int dims[3] = {unsigned(img.cols), unsigned(img.rows), 1};
  codec.SetDimensions(dims);
  codec.SetNeedOverlayCleanup(false);
  // Last, as GDCM's Bitmap does: JPEGCodec::SetPixelFormat makes its 8/12/16-bit inner codec
  // from the settings above (set after it, the inner codec sees 0 x 0 pixels).
  codec.SetPixelFormat(pf);
  gdcm::SmartPointer<gdcm::SequenceOfFragments> sq = new gdcm::SequenceOfFragments;
  for (size_t i = 0; i < count; ++i) {
    gdcm::Fragment f;
    f.SetByteValue(reinterpret_cast<const char*>(frags[i].data), uint32_t(frags[i].size));
    sq->AddFragment(f);
  }
  gdcm::DataElement in(gdcm::Tag(0x7fe0, 0x0010));
  in.SetVR(gdcm::VR::OB);
  in.SetValue(*sq);
  gdcm::DataElement decoded;
  if (!codec.Decode(in, decoded)) return "the codec could not decode it";
  const gdcm::ByteValue* bv = decoded.GetByteValue();
  const size_t want = size_t(img.rows * img.cols) * size_t(img.allocated / 8);
  if (!bv || bv->GetLength() < want)
    return "decoded " + std::to_string(bv ? size_t(bv->GetLength()) : size_t(0)) + " bytes where rows x columns needs " +
           std::to_string(want);
  if (codec.GetPixelFormat().GetBitsAllocated() != img.allocated)
    return "the stream decodes to " + std::to_string(codec.GetPixelFormat().GetBitsAllocated()) +
           "-bit samples, the header declares " + std::to_string(img.allocated);
  out.insert(out.end(), bv->GetPointer(), bv->GetPointer() + want);
  lossy = lossy || codec.GetLossyFlag();
  return "";
}

}  // namespace

bool codec_syntax_supported(const std::string& syntax) { return find_syntax(syntax) != nullptr; }

std::vector<char> decode_encapsulated(const EncapsulatedImage& img, const std::vector<Fragment>& fragments,
                                      const std::string& where, bool& lossy) {
  const SyntaxInfo* info = find_syntax(img.syntax);
  if (!info) fail(Status::unsupported, "compressed DICOM transfer syntax " + img.syntax + " is not supported" + where);
  if (img.allocated != 8 && img.allocated != 16)
    fail(Status::unsupported, "compressed DICOM with BitsAllocated " + std::to_string(img.allocated) +
                                  " is not supported (8 and 16 are)" + where);
  if (img.stored < 2) fail(Status::unsupported, "compressed 1-bit DICOM images are not supported" + where);
  // Which fragments make each frame: all of them for one frame, else one per frame (frames
  // split over several fragments would need the Basic Offset Table, which is not read).
  const size_t nfrag = fragments.size();
  if (nfrag == 0) fail(Status::corrupt_file, "compressed DICOM pixel data has no fragments" + where);
  if (img.frames > 1 && nfrag != size_t(img.frames))
    fail(Status::unsupported, "compressed DICOM pixel data has " + std::to_string(nfrag) + " fragments for " +
                                  std::to_string(img.frames) + " frames (frames split over fragments are not read)" +
                                  where);
  lossy = lossy || info->lossy;
  std::vector<char> out;
  out.reserve(size_t(img.rows * img.cols * img.frames) * size_t(img.allocated / 8));
  for (int64_t f = 0; f < img.frames; ++f) {
    // The frame's fragments as one stream (a frame may be split over several).
    std::vector<uint8_t> stream, clean;
    for (size_t i = img.frames > 1 ? size_t(f) : 0; i < (img.frames > 1 ? size_t(f) + 1 : nfrag); ++i)
      stream.insert(stream.end(), fragments[i].data, fragments[i].data + fragments[i].size);
    const std::string frame = "frame " + std::to_string(f + 1);
    StreamHeader h;
    std::string err = info->family == Family::j2k
                          ? j2k_header(stream.data(), stream.size(), h)
                          : jpeg_header(stream.data(), stream.size(), h, info->family == Family::jpeg ? &clean : nullptr);
    if (info->family == Family::jpeg) stream.swap(clean);
    const Fragment one{stream.data(), stream.size()};
    const Fragment* first = &one;
    const size_t count = 1;
    if (err.empty() && (h.rows != img.rows || h.cols != img.cols))
      err = "its stream declares " + std::to_string(h.rows) + " x " + std::to_string(h.cols) +
            " pixels, the header " + std::to_string(img.rows) + " x " + std::to_string(img.cols);
    if (err.empty() && h.components != 1)
      err = "its stream has " + std::to_string(h.components) + " components (colour is not read)";
    if (err.empty() && (h.precision < 2 || h.precision > 16 || int(h.precision) > img.allocated))
      err = "its stream has " + std::to_string(h.precision) + "-bit samples for BitsAllocated " +
            std::to_string(img.allocated);
    if (err.empty()) {
      if (info->family == Family::jpeg) {
        gdcm::JPEGCodec c;
        err = run_codec(c, img, first, count, out, lossy);
      } else if (info->family == Family::jpegls) {
        gdcm::JPEGLSCodec c;
        err = run_codec(c, img, first, count, out, lossy);
      } else {
        // OpenJPEG directly, not GDCM's JPEG2000Codec (it crashed on a fuzzed stream).
        err = decode_j2k_frame(stream.data(), stream.size(), img, out, lossy);
      }
    }
    if (!err.empty()) fail(Status::corrupt_file, "cannot decode " + std::string(info->uid) + " " + frame + ": " + err + where);
  }
  return out;
}

}  // namespace vx
