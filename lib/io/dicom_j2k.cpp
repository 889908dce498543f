#include "io/dicom_j2k.h"

#include <openjpeg.h>

#include <cstring>
#include <memory>

namespace vx {
namespace {

// The frame's bytes, read by OpenJPEG through the stream callbacks below.
struct MemoryStream {
  const uint8_t* data;
  size_t size, pos;
};

OPJ_SIZE_T read_fn(void* buf, OPJ_SIZE_T n, void* user) {
  MemoryStream& m = *static_cast<MemoryStream*>(user);
  if (m.pos >= m.size) return OPJ_SIZE_T(-1);  // end of stream, as OpenJPEG expects it
  const size_t k = n < m.size - m.pos ? n : m.size - m.pos;
  std::memcpy(buf, m.data + m.pos, k);
  m.pos += k;
  return k;
}

OPJ_OFF_T skip_fn(OPJ_OFF_T n, void* user) {
  MemoryStream& m = *static_cast<MemoryStream*>(user);
  if (n < 0) {
    if (size_t(-n) > m.pos) return -1;
    m.pos -= size_t(-n);
    return n;
  }
  const size_t k = size_t(n) < m.size - m.pos ? size_t(n) : m.size - m.pos;
  m.pos += k;
  return OPJ_OFF_T(k);
}

OPJ_BOOL seek_fn(OPJ_OFF_T at, void* user) {
  MemoryStream& m = *static_cast<MemoryStream*>(user);
  if (at < 0 || uint64_t(at) > m.size) return OPJ_FALSE;
  m.pos = size_t(at);
  return OPJ_TRUE;
}

// OpenJPEG's messages: the first error is kept for ours; warnings and information dropped
// (a damaged stream must give a refusal with a reason, never output on stderr or an abort).
void keep_error(const char* msg, void* user) {
  std::string& s = *static_cast<std::string*>(user);
  if (s.empty() && msg) {
    s = msg;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  }
}
void ignore(const char*, void*) {}

struct CodecFree {
  void operator()(opj_codec_t* c) const { opj_destroy_codec(c); }
};
struct StreamFree {
  void operator()(opj_stream_t* s) const { opj_stream_destroy(s); }
};
struct ImageFree {
  void operator()(opj_image_t* i) const { opj_image_destroy(i); }
};

// The image header (from opj_read_header, or after decoding) against the DICOM header.
std::string check_image(const opj_image_t* im, const EncapsulatedImage& img, bool decoded) {
  if (im->numcomps != 1)
    return "its image has " + std::to_string(im->numcomps) + " components (colour is not read)";
  const opj_image_comp_t& c = im->comps[0];
  if (c.dx != 1 || c.dy != 1) return "its component is subsampled";
  if (im->x1 <= im->x0 || im->y1 <= im->y0 || im->x1 - im->x0 != uint64_t(img.cols) || im->y1 - im->y0 != uint64_t(img.rows))
    return "its image is " + std::to_string(im->y1 - im->y0) + " x " + std::to_string(im->x1 - im->x0) +
           " pixels, the header " + std::to_string(img.rows) + " x " + std::to_string(img.cols);
  if (c.prec < 1 || int(c.prec) > img.allocated)
    return "its samples have " + std::to_string(c.prec) + " bits for BitsAllocated " + std::to_string(img.allocated);
  if (decoded && (c.w != uint32_t(img.cols) || c.h != uint32_t(img.rows) || c.factor != 0 || !c.data))
    return "the decoder returned a " + std::to_string(c.h) + " x " + std::to_string(c.w) + " component";
  return "";
}

}  // namespace

std::string decode_j2k_frame(const uint8_t* data, size_t size, const EncapsulatedImage& img, std::vector<char>& out,
                             bool& irreversible) {
  // A JP2 file starts with its signature box; anything else must be a bare codestream.
  static const uint8_t kJp2[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
  const bool jp2 = size >= 12 && std::memcmp(data, kJp2, 12) == 0;
  if (!jp2 && !(size >= 4 && data[0] == 0xFF && data[1] == 0x4F && data[2] == 0xFF && data[3] == 0x51))
    return "the stream is neither a JPEG 2000 codestream nor a JP2 file";
  std::unique_ptr<opj_codec_t, CodecFree> codec(opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K));
  if (!codec) return "OpenJPEG could not make a decoder";
  std::string error;
  opj_set_error_handler(codec.get(), keep_error, &error);
  opj_set_warning_handler(codec.get(), ignore, nullptr);
  opj_set_info_handler(codec.get(), ignore, nullptr);
  opj_dparameters_t params;
  opj_set_default_decoder_parameters(&params);
  if (!opj_setup_decoder(codec.get(), &params)) return "OpenJPEG refused the decoder settings";
  MemoryStream mem{data, size, 0};
  std::unique_ptr<opj_stream_t, StreamFree> stream(opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE));
  if (!stream) return "OpenJPEG could not make a stream";
  opj_stream_set_user_data(stream.get(), &mem, nullptr);
  opj_stream_set_user_data_length(stream.get(), size);
  opj_stream_set_read_function(stream.get(), read_fn);
  opj_stream_set_skip_function(stream.get(), skip_fn);
  opj_stream_set_seek_function(stream.get(), seek_fn);
  const auto why = [&](const char* what) { return std::string(what) + (error.empty() ? "" : ": " + error); };
  opj_image_t* raw = nullptr;
  const bool header_ok = opj_read_header(stream.get(), codec.get(), &raw);
  std::unique_ptr<opj_image_t, ImageFree> image(raw);
  if (!header_ok || !image) return why("OpenJPEG could not read the stream header");
  std::string err = check_image(image.get(), img, false);
  if (!err.empty()) return err;
  // The wavelet of the first tile's first component: 0 = 9-7 irreversible (lossy).
  bool lossy = false;
  if (opj_codestream_info_v2_t* info = opj_get_cstr_info(codec.get())) {
    lossy = info->m_default_tile_info.tccp_info && info->m_default_tile_info.tccp_info[0].qmfbid == 0;
    opj_destroy_cstr_info(&info);
  }
  if (!opj_decode(codec.get(), stream.get(), image.get()) || !opj_end_decompress(codec.get(), stream.get()))
    return why("OpenJPEG could not decode the stream");
  err = check_image(image.get(), img, true);  // a JP2 palette or channel box may have changed it
  if (!err.empty()) return err;
  const int bytes = img.allocated / 8;
  const size_t n = size_t(img.rows * img.cols);
  const opj_image_comp_t& c = image->comps[0];
  const OPJ_INT32* src = c.data;
  // The values the DICOM header allows. A stream sign that disagrees with PixelRepresentation
  // at the same precision is read as the header says (as pydicom and GDCM do): the same bits,
  // reinterpreted, so the stream's own range applies. Otherwise (a stream declaring more bits
  // than BitsStored, as some encoders write) every value must fit BitsStored, or the frame is
  // refused: no value is silently wrapped.
  const bool reinterpret = bool(c.sgnd) != (img.representation == 1) && int(c.prec) == img.stored;
  const bool sgn = reinterpret ? bool(c.sgnd) : img.representation == 1;
  const int bits = reinterpret ? int(c.prec) : img.stored;
  const int64_t lo = sgn ? -(int64_t(1) << (bits - 1)) : 0;
  const int64_t hi = sgn ? (int64_t(1) << (bits - 1)) - 1 : (int64_t(1) << bits) - 1;
  for (size_t i = 0; i < n; ++i)
    if (src[i] < lo || src[i] > hi)
      return "its pixel " + std::to_string(i) + " is " + std::to_string(src[i]) + ", outside the " +
             (sgn ? "signed " : "unsigned ") + std::to_string(bits) + "-bit range of the DICOM header";
  const size_t at = out.size();
  out.resize(at + n * size_t(bytes));
  char* dst = out.data() + at;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t v = uint32_t(src[i]);  // two's complement; the reader keeps the low BitsStored bits
    for (int b = 0; b < bytes; ++b) *dst++ = char((v >> (8 * b)) & 0xFF);
  }
  irreversible = irreversible || lossy;
  return "";
}

}  // namespace vx
