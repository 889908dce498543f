#include "io/dicom_precheck.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace vx {
namespace {

constexpr uint32_t kUndefined = 0xffffffffu;
constexpr int kMaxDepth = 64;

struct Walker {
  const uint8_t* p;
  size_t n;
  bool big = false;
  std::string problem;

  uint16_t u16(size_t at) const { return big ? uint16_t(p[at] << 8 | p[at + 1]) : uint16_t(p[at] | p[at + 1] << 8); }
  uint32_t u32(size_t at) const {
    return big ? uint32_t(p[at]) << 24 | uint32_t(p[at + 1]) << 16 | uint32_t(p[at + 2]) << 8 | p[at + 3]
               : uint32_t(p[at]) | uint32_t(p[at + 1]) << 8 | uint32_t(p[at + 2]) << 16 | uint32_t(p[at + 3]) << 24;
  }
  bool bad(const char* what, size_t at) {
    char b[160];
    std::snprintf(b, sizeof b, "%s at byte %zu", what, at);
    problem = b;
    return false;
  }
  // Only the VRs of PS3.5 table 6.2-1: GDCM reads an unknown VR's length from the wrong bytes
  // and allocates what it finds there (found by fuzzing: 'FD' -> 'ED' gave malloc(3.7 GB)).
  static bool known_vr(const uint8_t* vr) {
    static const char kVrs[] = "AEASATCSDADSDTFLFDISLOLTOBODOFOLOVOWPNSHSLSQSSSTSVTMUCUIULUNURUSUTUV";
    for (size_t i = 0; i + 1 < sizeof kVrs; i += 2)
      if (vr[0] == kVrs[i] && vr[1] == kVrs[i + 1]) return true;
    return false;
  }
  static bool long_vr(const uint8_t* vr) {
    static const char* const kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
    for (const char* l : kLong)
      if (vr[0] == l[0] && vr[1] == l[1]) return true;
    return false;
  }
  bool is_item(size_t at) const { return u16(at) == 0xfffe && u16(at + 2) == 0xe000; }

  // Data elements in [pos, end). With `in_item` an item delimiter may end the list early.
  // `meta_only`: stop before the first element outside group 0002.
  bool elements(size_t& pos, size_t end, bool explicit_vr, int depth, bool in_item, bool meta_only = false,
                std::string* syntax = nullptr) {
    if (depth > kMaxDepth) return bad("DICOM nesting deeper than 64 levels", pos);
    uint32_t last_tag = 0;
    bool first = true;
    while (pos < end) {
      if (end - pos < 8) return bad("DICOM element header cut short", pos);
      const size_t start = pos;
      const uint16_t group = u16(pos), elem = u16(pos + 2);
      if (meta_only && group != 0x0002) return true;
      // Tags ascend within a data set. GDCM reads a header up to the pixel data in stream
      // order, so an element placed after it would escape the checks made on that header.
      const uint32_t tag = uint32_t(group) << 16 | elem;
      if (group != 0xfffe) {
        if (!first && tag <= last_tag) return bad("DICOM data elements out of order or repeated", pos);
        last_tag = tag;
        first = false;
      }
      if (group == 0xfffe) {
        if (elem == 0xe00d && in_item) {
          if (u32(pos + 4) != 0) return bad("DICOM item delimiter with a non-zero length", pos);
          pos += 8;
          return true;
        }
        return bad("unexpected DICOM item or delimiter tag", pos);
      }
      uint32_t len;
      const uint8_t* vr = nullptr;
      if (explicit_vr) {
        vr = p + pos + 4;
        if (!known_vr(vr)) return bad("unknown DICOM VR", pos + 4);
        if (long_vr(vr)) {
          if (end - pos < 12) return bad("DICOM element header cut short", pos);
          len = u32(pos + 8);
          pos += 12;
        } else {
          len = u16(pos + 6);
          pos += 8;
        }
      } else {
        len = u32(pos + 4);
        pos += 8;
      }
      const bool pixel_data = group == 0x7fe0 && elem == 0x0010;
      const bool sq = vr && vr[0] == 'S' && vr[1] == 'Q';
      const bool un = vr && vr[0] == 'U' && vr[1] == 'N';
      // GDCM's meta group reader asserts on both (a meta group holds only plain values).
      if (group == 0x0002 && (sq || len == kUndefined)) return bad("sequence or undefined length in the DICOM file meta group", start);
      if (len == kUndefined) {
        if (pixel_data) {
          // GDCM reads encapsulated pixel data only as OB/OW and asserts on any other VR.
          if (vr && !((vr[0] == 'O' && (vr[1] == 'B' || vr[1] == 'W'))))
            return bad("encapsulated DICOM pixel data whose VR is not OB or OW", start);
          if (!fragments(pos, end)) return false;
        } else if (sq || un || !explicit_vr) {
          // UN of undefined length holds an implicit VR little endian sequence.
          if (!sequence(pos, end, false, explicit_vr && !un, depth + 1)) return false;
        } else {
          return bad("undefined length on a DICOM element that is not a sequence", start);
        }
      } else {
        if (len > end - pos) return bad("DICOM element value runs past the end of its container", start);
        const size_t value_end = pos + len;
        if (syntax && group == 0x0002 && elem == 0x0010) syntax->assign(reinterpret_cast<const char*>(p + pos), len);
        if (sq || (!explicit_vr && !pixel_data && len >= 8 && is_item(pos))) {
          if (!sequence(pos, value_end, true, explicit_vr, depth + 1)) return false;
        }
        pos = value_end;
      }
    }
    if (in_item) return bad("DICOM item without an item delimiter", pos);
    return true;
  }

  // Items of a sequence starting at pos; `defined`: exactly fills [pos, end).
  bool sequence(size_t& pos, size_t end, bool defined, bool explicit_vr, int depth) {
    if (depth > kMaxDepth) return bad("DICOM nesting deeper than 64 levels", pos);
    while (true) {
      if (defined && pos == end) return true;
      if (end - pos < 8) return bad("DICOM sequence cut short", pos);
      const uint16_t group = u16(pos), elem = u16(pos + 2);
      const uint32_t len = u32(pos + 4);
      if (group == 0xfffe && elem == 0xe0dd && !defined) {
        if (len != 0) return bad("DICOM sequence delimiter with a non-zero length", pos);
        pos += 8;
        return true;
      }
      if (group != 0xfffe || elem != 0xe000) return bad("DICOM sequence holds something other than items", pos);
      pos += 8;
      if (len == kUndefined) {
        if (!elements(pos, end, explicit_vr, depth + 1, true)) return false;
      } else {
        if (len > end - pos) return bad("DICOM item runs past the end of its sequence", pos - 8);
        size_t item_pos = pos;
        if (!elements(item_pos, pos + len, explicit_vr, depth + 1, false)) return false;
        pos += len;
      }
    }
  }

  // Encapsulated pixel data: items of defined length up to a sequence delimiter.
  bool fragments(size_t& pos, size_t end) {
    while (true) {
      if (end - pos < 8) return bad("encapsulated DICOM pixel data cut short", pos);
      const uint16_t group = u16(pos), elem = u16(pos + 2);
      const uint32_t len = u32(pos + 4);
      pos += 8;
      // GDCM reads a delimiter's length as a fragment size (found by fuzzing: a 4 GiB malloc).
      if (group == 0xfffe && elem == 0xe0dd) return len == 0 || bad("DICOM sequence delimiter with a non-zero length", pos - 8);
      if (group != 0xfffe || elem != 0xe000 || len == kUndefined) return bad("bad DICOM pixel data fragment", pos - 8);
      if (len > end - pos) return bad("DICOM pixel data fragment runs past the end of the file", pos - 8);
      pos += len;
    }
  }
};

// The data set of a Deflated Explicit VR Little Endian file (raw deflate, RFC 1951, after the
// file meta group), or a problem. The output is bounded: a few KiB can inflate to gigabytes.
std::string inflate_data_set(const uint8_t* p, size_t n, size_t limit, std::vector<uint8_t>& out) {
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) return "zlib could not start inflating";
  out.resize(n < limit / 4 ? 4 * n + 4096 : limit);
  zs.next_in = const_cast<Bytef*>(p);
  size_t in_left = n;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (zs.avail_in == 0 && in_left) {
      zs.avail_in = uInt(in_left < (1u << 30) ? in_left : (1u << 30));
      in_left -= zs.avail_in;
    }
    if (zs.total_out == out.size()) {
      if (out.size() >= limit) break;
      out.resize(out.size() < limit / 2 ? 2 * out.size() : limit);
    }
    const size_t room = out.size() - zs.total_out;
    zs.next_out = out.data() + zs.total_out;
    zs.avail_out = uInt(room < (1u << 30) ? room : (1u << 30));
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_BUF_ERROR && (zs.avail_in || in_left)) rc = Z_OK;  // only out of room: grow
  }
  const size_t used = n - in_left - zs.avail_in;
  out.resize(zs.total_out);
  inflateEnd(&zs);
  if (rc == Z_OK) return "deflated DICOM data set inflates to more than " + std::to_string(limit >> 20) + " MiB";
  if (rc != Z_STREAM_END) return "damaged deflate stream in a deflated DICOM data set";
  // The stream is padded to an even length with at most one byte; more is not a deflated data set.
  if (n - used > 1) return "bytes after the end of a deflated DICOM data set";
  return "";
}

}  // namespace

size_t max_inflated_data_set(size_t deflated_bytes) {
  const size_t floor = size_t(64) << 20, cap = size_t(1) << 30;
  const size_t by_ratio = deflated_bytes < cap / 256 ? 256 * deflated_bytes : cap;
  return by_ratio < floor ? floor : by_ratio;
}

DicomPrecheck precheck_dicom(const uint8_t* data, size_t size) {
  DicomPrecheck out;
  Walker w{data, size, false, {}};
  size_t pos = 0;
  out.part10 = size >= 132 && std::memcmp(data + 128, "DICM", 4) == 0;
  if (out.part10) pos = 132;
  if (out.part10 && size - pos < 8) {  // GDCM's reader asserts on a stream that ends here
    out.problem = "DICOM file ends right after its preamble";
    return out;
  }
  std::string syntax;
  // The file meta group is always explicit VR little endian. GDCM trusts its group length
  // (0002,0000): the elements must end exactly there (found by fuzzing: a longer element
  // made GDCM read the data set from inside it and assert).
  size_t meta_end = 0;
  if (size - pos >= 8 && w.u16(pos) == 0x0002 && w.u16(pos + 2) == 0x0000 &&
      (std::memcmp(data + pos + 4, "UL", 2) != 0 || w.u16(pos + 6) != 4)) {
    out.problem = "DICOM file meta group length (0002,0000) is not a 4-byte UL";
    return out;
  }
  if (size - pos >= 12 && w.u16(pos) == 0x0002 && w.u16(pos + 2) == 0x0000 && std::memcmp(data + pos + 4, "UL", 2) == 0 &&
      w.u16(pos + 6) == 4)
    meta_end = pos + 12 + w.u32(pos + 8);
  const bool has_meta = size - pos >= 6 && w.u16(pos) == 0x0002;
  if (has_meta && !w.elements(pos, size, true, 0, false, true, &syntax)) {
    out.problem = w.problem;
    return out;
  }
  if (meta_end && pos != meta_end) {
    out.problem = "DICOM file meta group length disagrees with its elements";
    return out;
  }
  if (has_meta && size - pos < 8) {  // GDCM asserts reading the next tag
    out.problem = "DICOM file has a file meta group but no data set";
    return out;
  }
  while (!syntax.empty() && (syntax.back() == '\0' || syntax.back() == ' ')) syntax.pop_back();
  // A deflated data set is inflated here, within max_inflated_data_set (GDCM would inflate it
  // unchecked and unbounded: a small file can inflate to gigabytes), and walked as the explicit
  // VR little endian data set GDCM will inflate and parse from the same bytes.
  out.deflated = syntax == "1.2.840.10008.1.2.1.99";
  if (out.deflated) {
    std::vector<uint8_t> plain;
    out.problem = inflate_data_set(data + pos, size - pos, max_inflated_data_set(size - pos), plain);
    if (!out.problem.empty()) return out;
    if (plain.size() < 8) {
      out.problem = "deflated DICOM data set is empty";
      return out;
    }
    Walker d{plain.data(), plain.size(), false, {}};
    size_t at = 0;
    if (!d.elements(at, plain.size(), true, 0, false)) out.problem = "in the inflated data set: " + d.problem;
    return out;
  }
  bool explicit_vr = syntax != "1.2.840.10008.1.2";
  w.big = syntax == "1.2.840.10008.1.2.2";
  // Without file meta information GDCM guesses the transfer syntax, big endian included,
  // from the first tag (found by fuzzing: a mangled meta tag, or a first element above
  // (00ff,00ff), made it read lengths big endian and allocate 400-800 MiB). Accept only what
  // it reads as little endian for sure: a data set starting with group 0008, as standard
  // ones do.
  if (!has_meta && size - pos >= 8 && w.u16(pos) != 0x0008) {
    out.problem = "DICOM data set without file meta information does not start with group 0008";
    return out;
  }
  if (syntax.empty() && size - pos >= 6) {  // no meta group: guess as GDCM does
    const uint8_t* vr = data + pos + 4;
    explicit_vr = vr[0] >= 'A' && vr[0] <= 'Z' && vr[1] >= 'A' && vr[1] <= 'Z';
  }
  if (!w.elements(pos, size, explicit_vr, 0, false)) out.problem = w.problem;
  return out;
}

bool precheck_dicom_file(const std::string& file) {
  // O_NONBLOCK: a FIFO put here after the folder was listed must not block the open.
  const int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK);
  if (fd < 0) return false;
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
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
  return true;
}

}  // namespace vx
