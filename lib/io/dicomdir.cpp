#include "io/dicomdir.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "core/error.h"
#include "io/dir_walk.h"

namespace vx {
namespace {

constexpr uint32_t kUndefined = 0xffffffffu;
constexpr size_t kMaxString = 1024;
constexpr size_t kMaxComponents = 16;
constexpr int kMaxNesting = 16;

// One directory record as stored, before the hierarchy is followed.
struct RawRecord {
  uint32_t offset = 0, next = 0, lower = 0;
  bool in_use = true;
  DicomdirRecord rec;
};

struct Header {
  uint16_t group = 0, elem = 0;
  char vr[2] = {0, 0};
  uint32_t len = 0;
  size_t value = 0;  // first byte of the value
  bool sq = false;
};

class Parser {
 public:
  Parser(const uint8_t* p, size_t n, const std::string& name) : p_(p), n_(n), name_(name) {}

  Dicomdir parse() {
    if (n_ > kMaxDicomdirBytes)
      fail(Status::limit_exceeded, "DICOMDIR '" + name_ + "' is larger than " + std::to_string(kMaxDicomdirBytes >> 20) + " MiB");
    if (n_ < 132 || std::string(reinterpret_cast<const char*>(p_ + 128), 4) != "DICM")
      bad("is not a DICOM file (no DICM preamble)", 0);
    size_t pos = 132;
    std::string syntax, sop_class;
    while (pos + 8 <= n_ && le16(pos) == 0x0002) {  // file meta group: explicit VR little endian
      const Header h = header(pos, n_, true, false);
      if (h.len == kUndefined || h.sq) bad("has a sequence or undefined length in its file meta group", pos);
      if (h.elem == 0x0010) syntax = text(h);
      if (h.elem == 0x0002) sop_class = text(h);
      pos = h.value + h.len;
    }
    if (!sop_class.empty() && sop_class != "1.2.840.10008.1.3.10")
      bad("is not a DICOMDIR (MediaStorageSOPClassUID " + sop_class + ", not 1.2.840.10008.1.3.10)", 0);
    if (syntax.empty() || syntax == "1.2.840.10008.1.2.1") {
      explicit_ = true, big_ = false;
    } else if (syntax == "1.2.840.10008.1.2") {
      explicit_ = false, big_ = false;
    } else if (syntax == "1.2.840.10008.1.2.2") {
      explicit_ = true, big_ = true;
    } else {
      fail(Status::unsupported, "DICOMDIR '" + name_ + "' uses transfer syntax " + syntax +
                                    "; only explicit or implicit VR little endian and explicit VR big endian are read");
    }
    elements(pos, n_, 0, false, nullptr);
    if (!have_sequence_) bad("has no DirectoryRecordSequence (0004,1220)", pos);
    return hierarchy();
  }

 private:
  const uint8_t* p_;
  size_t n_;
  std::string name_;
  bool explicit_ = true, big_ = false, have_sequence_ = false;
  bool read_to_file_end_ = false;  // a container's length ran past the end of the file
  uint32_t root_ = 0;
  std::vector<RawRecord> raw_;

  [[noreturn]] void bad(const std::string& what, size_t at) const {
    char where[48];
    std::snprintf(where, sizeof where, " (at byte %zu)", at);
    fail(Status::corrupt_file, "DICOMDIR '" + name_ + "' " + what + (at ? where : ""));
  }
  uint16_t le16(size_t at) const { return uint16_t(p_[at] | p_[at + 1] << 8); }
  uint16_t u16(size_t at, bool big) const { return big ? uint16_t(p_[at] << 8 | p_[at + 1]) : le16(at); }
  uint32_t u32(size_t at, bool big) const {
    return big ? uint32_t(p_[at]) << 24 | uint32_t(p_[at + 1]) << 16 | uint32_t(p_[at + 2]) << 8 | p_[at + 3]
               : uint32_t(p_[at]) | uint32_t(p_[at + 1]) << 8 | uint32_t(p_[at + 2]) << 16 | uint32_t(p_[at + 3]) << 24;
  }

  // The element header at pos, which must lie before `end`, its value (when of defined length) too.
  Header header(size_t pos, size_t end, bool expl, bool big) {
    if (end - pos < 8) bad("has an element header cut short", pos);
    Header h;
    h.group = u16(pos, big), h.elem = u16(pos + 2, big);
    if (h.group == 0xfffe) {  // items and delimiters have no VR
      h.len = u32(pos + 4, big);
      h.value = pos + 8;
    } else if (expl) {
      h.vr[0] = char(p_[pos + 4]), h.vr[1] = char(p_[pos + 5]);
      if (!std::isupper(static_cast<unsigned char>(h.vr[0])) || !std::isupper(static_cast<unsigned char>(h.vr[1])))
        bad("has an element without a valid VR", pos + 4);
      static const char* const kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
      bool is_long = false;
      for (const char* l : kLong) is_long = is_long || (h.vr[0] == l[0] && h.vr[1] == l[1]);
      if (is_long) {
        if (end - pos < 12) bad("has an element header cut short", pos);
        h.len = u32(pos + 8, big);
        h.value = pos + 12;
      } else {
        h.len = u16(pos + 6, big);
        h.value = pos + 8;
      }
      h.sq = h.vr[0] == 'S' && h.vr[1] == 'Q';
    } else {
      h.len = u32(pos + 4, big);
      h.value = pos + 8;
      h.sq = h.len == kUndefined || (h.group == 0x0004 && h.elem == 0x1220);
    }
    if (h.len != kUndefined && h.len > end - h.value) {
      // A sequence or item whose stale length runs past the end of the file (a writer that
      // removed elements without mending the lengths, as pydicom's DICOMDIR-nooffset) is read
      // to the end of the file; what it holds must still end there on an element boundary.
      const bool container = h.sq || (h.group == 0xfffe && h.elem == 0xe000);
      if (!(container && end == n_)) bad("has an element running past its container", pos);
      h.len = uint32_t(end - h.value);
      read_to_file_end_ = true;
    }
    if (h.len == kUndefined && !h.sq && h.group != 0xfffe) bad("has an undefined length on an element that is not a sequence", pos);
    return h;
  }

  std::string text(const Header& h) const {
    if (h.len > kMaxString) bad("has a text value longer than " + std::to_string(kMaxString) + " bytes", h.value);
    std::string s(reinterpret_cast<const char*>(p_ + h.value), h.len);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    const size_t b = s.find_first_not_of(' ');
    return b == std::string::npos ? "" : s.substr(b);
  }
  uint32_t ul(const Header& h) const {
    if (h.len != 4) bad("has an offset (UL) that is not 4 bytes", h.value);
    return u32(h.value, big_);
  }

  void take(const Header& h, DicomdirRecord& r, RawRecord& raw) const {
    const uint32_t tag = uint32_t(h.group) << 16 | h.elem;
    switch (tag) {
      case 0x00041400: raw.next = ul(h); break;
      case 0x00041420: raw.lower = ul(h); break;
      case 0x00041410:
        if (h.len != 2) bad("has a RecordInUseFlag that is not 2 bytes", h.value);
        raw.in_use = u16(h.value, big_) != 0;
        break;
      case 0x00041430: r.type = text(h); break;
      case 0x00041511: r.sop_instance_uid = text(h); break;
      case 0x00100020: r.patient_id = text(h); break;
      case 0x0020000d: r.study_uid = text(h); break;
      case 0x0020000e: r.series_uid = text(h); break;
      case 0x00200011: r.series_number = text(h); break;
      case 0x00080060: r.modality = text(h); break;
      case 0x00041500: {
        const std::string v = text(h);
        size_t start = 0;
        while (true) {
          const size_t bs = v.find('\\', start);
          std::string c = v.substr(start, bs == std::string::npos ? std::string::npos : bs - start);
          while (!c.empty() && (c.back() == ' ' || c.back() == '\0')) c.pop_back();
          while (!c.empty() && c.front() == ' ') c.erase(c.begin());
          r.file_id.push_back(c);
          if (r.file_id.size() > kMaxComponents)
            bad("has a ReferencedFileID of more than " + std::to_string(kMaxComponents) + " components", h.value);
          if (bs == std::string::npos) break;
          start = bs + 1;
        }
        break;
      }
      default: break;
    }
  }

  // Data elements in [pos, end); `in_item`: an item of undefined length, ended by its delimiter.
  // `raw`: the directory record these elements belong to (null elsewhere).
  void elements(size_t& pos, size_t end, int depth, bool in_item, RawRecord* raw) {
    if (depth > kMaxNesting) bad("is nested deeper than " + std::to_string(kMaxNesting) + " levels", pos);
    while (pos < end) {
      const Header h = header(pos, end, explicit_, big_);
      if (h.group == 0xfffe) {
        if (in_item && h.elem == 0xe00d) {
          pos = h.value;
          return;
        }
        bad("has an item or delimiter outside a sequence", pos);
      }
      const bool directory = depth == 0 && h.group == 0x0004 && h.elem == 0x1220;
      if (depth == 0 && h.group == 0x0004 && h.elem == 0x1200) root_ = ul(h);
      if (raw) take(h, raw->rec, *raw);
      if (h.sq || directory) {
        if (directory) have_sequence_ = true;
        size_t q = h.value;
        sequence(q, h.len == kUndefined ? end : h.value + h.len, h.len != kUndefined, depth + 1, directory);
        pos = q;
      } else {
        pos = h.value + h.len;
      }
    }
    if (in_item) bad("has an item without its delimiter", pos);
  }

  // Items from pos: exactly filling [pos, end) when `defined`, else up to a sequence delimiter.
  // Each item of the directory sequence is a record.
  void sequence(size_t& pos, size_t end, bool defined, int depth, bool directory) {
    while (!(defined && pos == end)) {
      const Header h = header(pos, end, explicit_, big_);
      if (h.group == 0xfffe && h.elem == 0xe0dd && !defined) {
        pos = h.value;
        return;
      }
      if (h.group != 0xfffe || h.elem != 0xe000) bad("has a sequence holding something other than items", pos);
      RawRecord* raw = nullptr;
      if (directory) {
        if (raw_.size() >= kMaxDicomdirRecords)
          fail(Status::limit_exceeded, "DICOMDIR '" + name_ + "' has more than " + std::to_string(kMaxDicomdirRecords) + " records");
        raw_.emplace_back();
        raw_.back().offset = uint32_t(pos);
        raw = &raw_.back();
      }
      size_t q = h.value;
      if (h.len == kUndefined) {
        elements(q, end, depth + 1, true, raw);
      } else {
        elements(q, h.value + h.len, depth + 1, false, raw);
      }
      pos = q;
    }
  }

  // Whether a record holds the keys read from its type (an IMAGE-level one: its file and instance).
  static bool complete(const DicomdirRecord& r) {
    if (r.type == "PATIENT") return !r.patient_id.empty();
    if (r.type == "STUDY") return !r.study_uid.empty();
    if (r.type == "SERIES") return !r.series_uid.empty() && !r.series_number.empty() && !r.modality.empty();
    return !r.type.empty() && !r.file_id.empty() && !r.sop_instance_uid.empty();
  }

  // The records in hierarchy order, by their offsets; in sequence order when the root offset
  // or a record's offset points at no record (a writer that left them out).
  Dicomdir hierarchy() const {
    std::map<uint32_t, size_t> at;
    for (size_t i = 0; i < raw_.size(); ++i) at[raw_[i].offset] = i;
    bool resolvable = root_ != 0 && at.count(root_);
    for (const RawRecord& r : raw_)
      resolvable = resolvable && (!r.next || at.count(r.next)) && (!r.lower || at.count(r.lower));
    // A file cut short can also end on an element boundary; then a record before the cut still
    // points at one after it, so a length running past the end is trusted only with every offset met.
    if (read_to_file_end_ && !resolvable)
      bad("is cut short: a sequence runs past the end of the file and record offsets point past it", 0);
    // The cut can also fall inside the last record: it must still hold what we read from it.
    if (read_to_file_end_ && !raw_.empty() && !complete(raw_.back().rec))
      bad("is cut short: its last record runs past the end of the file and lacks its " + raw_.back().rec.type + " keys", 0);
    Dicomdir out;
    if (resolvable) {
      std::vector<char> seen(raw_.size(), 0);
      follow(root_, -1, 0, at, seen, out);
      return out;
    }
    int last[4] = {-1, -1, -1, -1};  // the latest record at each level
    for (const RawRecord& r : raw_) {
      if (!r.in_use) continue;
      const int level = r.rec.type == "PATIENT" ? 0 : r.rec.type == "STUDY" ? 1 : r.rec.type == "SERIES" ? 2 : 3;
      DicomdirRecord rec = r.rec;
      for (int l = level - 1; l >= 0 && rec.parent < 0; --l) rec.parent = last[l];
      last[level] = int(out.records.size());
      for (int l = level + 1; l < 4; ++l) last[l] = -1;
      out.records.push_back(std::move(rec));
    }
    return out;
  }

  void follow(uint32_t first, int parent, int depth, const std::map<uint32_t, size_t>& at, std::vector<char>& seen,
              Dicomdir& out) const {
    if (depth > kMaxNesting) bad("has records nested deeper than " + std::to_string(kMaxNesting) + " levels", 0);
    for (uint32_t off = first; off != 0;) {
      const size_t i = at.at(off);
      if (seen[i]) bad("has record offsets that loop (record at byte " + std::to_string(off) + " reached twice)", 0);
      seen[i] = 1;
      off = raw_[i].next;
      if (!raw_[i].in_use) continue;  // inactive: left out with what is below it
      out.records.push_back(raw_[i].rec);
      out.records.back().parent = parent;
      if (raw_[i].lower) follow(raw_[i].lower, int(out.records.size()) - 1, depth + 1, at, seen, out);
    }
  }
};

bool same_name(std::string disk, const std::string& want) {
  if (disk.size() > 2 && disk.compare(disk.size() - 2, 2, ";1") == 0) disk.resize(disk.size() - 2);  // ISO 9660 version
  if (disk.size() > 1 && disk.back() == '.') disk.pop_back();
  if (disk.size() != want.size()) return false;
  for (size_t i = 0; i < disk.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(disk[i])) != std::toupper(static_cast<unsigned char>(want[i]))) return false;
  return true;
}

// Folder listings, read once each while resolving many file IDs.
class FolderCache {
 public:
  std::string child(const std::string& dir, const std::string& name) {
    const std::string exact = dir + "/" + name;
    struct stat st;
    if (::stat(exact.c_str(), &st) == 0) return exact;
    auto it = listings_.find(dir);
    if (it == listings_.end()) {
      std::vector<std::string> names;
      if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d)) {
          const std::string n = e->d_name;
          if (n != "." && n != "..") names.push_back(n);
        }
        ::closedir(d);
      }
      std::sort(names.begin(), names.end());
      it = listings_.emplace(dir, std::move(names)).first;
    }
    for (const std::string& n : it->second)
      if (same_name(n, name)) return dir + "/" + n;
    return "";
  }

 private:
  std::map<std::string, std::vector<std::string>> listings_;
};

std::string joined(const std::vector<std::string>& id) {
  std::string s;
  for (const auto& c : id) s += (s.empty() ? "" : "\\") + c;
  return s;
}

std::string resolve(const std::string& root, const std::vector<std::string>& id, FolderCache& cache) {
  for (const std::string& c : id)
    if (c.empty() || c == "." || c == ".." || c.find('/') != std::string::npos || c.find('\0') != std::string::npos)
      fail(Status::corrupt_file, "DICOMDIR record names '" + joined(id) + "', which points outside its folder '" + root +
                                     "' (a '..', '.', '/' or empty component, or an absolute path): refused");
  std::string cur = root;
  for (const std::string& c : id) {
    cur = cache.child(cur, c);
    if (cur.empty()) return "";
  }
  return is_regular_file(cur) ? cur : "";
}

std::string folder_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Dicomdir parse_dicomdir(const uint8_t* data, size_t size, const std::string& name) {
  return Parser(data, size, name).parse();
}

Dicomdir read_dicomdir(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) fail(Status::io_error, "cannot read DICOMDIR '" + path + "'");
  if (size_t(st.st_size) > kMaxDicomdirBytes)
    fail(Status::limit_exceeded, "DICOMDIR '" + path + "' is larger than " + std::to_string(kMaxDicomdirBytes >> 20) + " MiB");
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  if (!in || !in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(bytes.size())))
    fail(Status::io_error, "cannot read DICOMDIR '" + path + "'");
  return parse_dicomdir(bytes.data(), bytes.size(), path);
}

bool is_dicomdir_file(const std::string& path) {
  const size_t slash = path.rfind('/');
  return same_name(path.substr(slash == std::string::npos ? 0 : slash + 1), "DICOMDIR") && is_regular_file(path);
}

std::string find_dicomdir(const std::string& dir) {
  FolderCache cache;
  const std::string p = cache.child(dir, "DICOMDIR");
  return !p.empty() && is_regular_file(p) ? p : "";
}

std::string resolve_file_id(const std::string& root, const std::vector<std::string>& file_id) {
  FolderCache cache;
  return resolve(root, file_id, cache);
}

std::vector<std::string> dicomdir_files(const std::string& path) {
  const Dicomdir dd = read_dicomdir(path);
  const std::string root = folder_of(path);
  FolderCache cache;
  std::vector<std::string> files, missing;
  std::set<std::string> seen;
  for (const DicomdirRecord& r : dd.records) {
    if (r.file_id.empty()) continue;
    const std::string f = resolve(root, r.file_id, cache);
    if (f.empty()) {
      missing.push_back(joined(r.file_id));
    } else if (seen.insert(f).second) {
      files.push_back(f);
    }
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 10; ++i) list += "\n  " + missing[i];
    if (missing.size() > 10) list += "\n  ... and " + std::to_string(missing.size() - 10) + " more";
    fail(Status::io_error, "DICOMDIR '" + path + "' names " + std::to_string(missing.size()) +
                               " file(s) that are not in '" + root + "' (an incomplete copy of the export?):" + list);
  }
  return files;
}

}  // namespace vx
