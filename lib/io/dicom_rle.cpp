#include "io/dicom_rle.h"

namespace vx {
namespace {

uint32_t le32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }

// PackBits: a control byte n, then n+1 literal bytes (n in 0..127) or one byte repeated
// 1-n times (n in -127..-1); -128 is a no-op. Writes exactly `count` bytes, `stride` apart.
std::string unpack_segment(const uint8_t* p, const uint8_t* end, int64_t count, uint8_t* out, int stride) {
  int64_t done = 0;
  while (done < count) {
    if (p >= end) return "RLE segment ends after " + std::to_string(done) + " of " + std::to_string(count) + " bytes";
    const int n = static_cast<int8_t>(*p++);
    if (n >= 0) {
      if (end - p < n + 1 || count - done < n + 1) return "RLE literal run overflows its segment";
      for (int i = 0; i <= n; ++i) out[(done++) * stride] = *p++;
    } else if (n != -128) {
      if (p >= end || count - done < 1 - n) return "RLE replicate run overflows its segment";
      const uint8_t v = *p++;
      for (int i = 0; i < 1 - n; ++i) out[(done++) * stride] = v;
    }
  }
  return "";  // trailing bytes (padding to an even length) are allowed
}

}  // namespace

std::string decode_rle_frame(const uint8_t* fragment, size_t size, int64_t pixels, int bytes_per_sample, uint8_t* out) {
  if (size < 64) return "RLE fragment shorter than its 64-byte header";
  const uint32_t segments = le32(fragment);
  if (segments != uint32_t(bytes_per_sample))
    return "RLE header declares " + std::to_string(segments) + " segments, " + std::to_string(bytes_per_sample) +
           "-byte grey samples need " + std::to_string(bytes_per_sample);
  for (uint32_t s = 0; s < segments; ++s) {
    const uint32_t begin = le32(fragment + 4 + 4 * s);
    const uint32_t end = s + 1 < segments ? le32(fragment + 8 + 4 * s) : uint32_t(size);
    if (begin < 64 || begin > end || end > size) return "RLE segment " + std::to_string(s) + " lies outside its fragment";
    // Segment 0 holds the most significant byte of every sample.
    const std::string err = unpack_segment(fragment + begin, fragment + end, pixels,
                                           out + (bytes_per_sample - 1 - int(s)), bytes_per_sample);
    if (!err.empty()) return err;
  }
  return "";
}

}  // namespace vx
