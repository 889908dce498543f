// DICOM RLE Lossless (PS3.5 Annex G) decoder for one frame.
//
// Ours, not GDCM's: GDCM's RLE codec assert()s and reads out of bounds on damaged fragments
// (found by dicom_read_fuzz), and an embedded reader must refuse a file, not abort the host.
// Every count and offset read from the fragment is checked against its length.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace vx {

// Decodes `fragment` (RLE header + segments) into `pixels` samples of `bytes_per_sample`
// bytes each, little endian, at `out`. Returns an empty string, or what is wrong.
std::string decode_rle_frame(const uint8_t* fragment, size_t size, int64_t pixels, int bytes_per_sample, uint8_t* out);

}  // namespace vx
