// Decoding the encapsulated pixel data of JPEG (baseline, extended, lossless) and JPEG-LS
// transfer syntaxes through GDCM's codecs (gdcmjpeg8/12/16, CharLS), and of JPEG 2000 with
// OpenJPEG directly (io/dicom_j2k.h: GDCM's JPEG2000Codec crashed on a fuzzed stream).
//
// Our checks come first, so that a hostile header or stream cannot make a codec allocate or
// write what we did not ask for: the fragments are mapped to frames (one fragment per frame,
// or all fragments for a single frame), each frame's codestream header (JPEG SOF, JPEG-LS
// SOF55, JPEG 2000 SIZ) must declare exactly the image's rows, columns and one component at
// no more than 16 bits, and the decoded buffer must be exactly rows x columns x bytes.
// RLE is decoded by io/dicom_rle.h, not here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vx {

struct EncapsulatedImage {
  std::string syntax;  // transfer syntax UID
  int64_t rows = 0, cols = 0, frames = 1;
  int allocated = 16, stored = 16, high = 15, representation = 0;
};

struct Fragment {
  const uint8_t* data;
  size_t size;
};

// True when `syntax` is one decode_encapsulated handles.
bool codec_syntax_supported(const std::string& syntax);

// Decodes every frame into `out` (rows*cols*frames samples of allocated/8 bytes, little
// endian, values in the low BitsStored bits). Sets `lossy` when the syntax (JPEG baseline /
// extended, JPEG-LS near-lossless, JPEG 2000 .91) or the stream (9-7 wavelet) is lossy.
// Throws Error(corrupt_file / unsupported) naming `where`.
std::vector<char> decode_encapsulated(const EncapsulatedImage& img, const std::vector<Fragment>& fragments,
                                      const std::string& where, bool& lossy);

}  // namespace vx
