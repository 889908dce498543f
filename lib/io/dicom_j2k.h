// One JPEG 2000 frame (bare J2K codestream or JP2 file) decoded with OpenJPEG directly.
//
// GDCM 3.0.21's JPEG2000Codec crashed (SEGV in DecodeByStreamsCommon) on a fuzzed stream that
// passed our SIZ checks, so JPEG 2000 does not go through GDCM: OpenJPEG reads the frame from
// memory (never a temporary file), its error / warning handlers only record a message (no
// abort, no stderr), and the image header it reads is checked against the DICOM header (rows,
// columns, one component, no subsampling, precision <= BitsAllocated) before any tile is
// decoded and again after decoding; then every decoded value must fit the header's BitsStored
// and PixelRepresentation (a stream sign that disagrees at the same precision is read as the
// header says, as pydicom and GDCM do) before a pixel is copied.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "io/dicom_codec.h"

namespace vx {

// Appends rows x columns samples of img.allocated / 8 bytes (little endian, two's complement,
// the value in the low BitsStored bits) to `out`. `irreversible` is set when the stream uses
// the 9-7 (lossy) wavelet. Returns "" or the problem (nothing is appended then).
std::string decode_j2k_frame(const uint8_t* data, size_t size, const EncapsulatedImage& img, std::vector<char>& out,
                             bool& irreversible);

}  // namespace vx
