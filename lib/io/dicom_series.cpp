#include "io/dicom_series.h"

#include <fnmatch.h>
#include <gdcmReader.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "core/error.h"
#include "io/dicom_precheck.h"
#include "io/dicom_tags.h"
#include "io/dicomdir.h"
#include "io/dir_walk.h"

namespace vx {
namespace {

// What one file adds to its series.
struct FileHeader {
  DicomSeriesInfo info;           // the series-level fields
  std::array<double, 6> iop{};
  bool has_iop = false;
  std::vector<std::array<double, 3>> positions;  // one per frame
};

bool read_header(const std::string& file, FileHeader& h) {
  if (!precheck_dicom_file(file)) return false;
  gdcm::Reader reader;
  reader.SetFileName(file.c_str());
  if (!reader.ReadUpToTag(gdcm::Tag(0x7fe0, 0x0010))) return false;
  const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
  if (!ds.FindDataElement(gdcm::Tag(0x0028, 0x0010))) return false;  // no image: DICOMDIR, SR, ...
  DicomSeriesInfo& s = h.info;
  s.uid = tag_string(ds, 0x0020, 0x000e);
  s.number = tag_string(ds, 0x0020, 0x0011);
  s.description = tag_string(ds, 0x0008, 0x103e);
  s.protocol = tag_string(ds, 0x0018, 0x1030);
  s.modality = tag_string(ds, 0x0008, 0x0060);
  s.image_type = tag_string(ds, 0x0008, 0x0008);
  s.sequence_name = tag_string(ds, 0x0018, 0x0024);
  s.scanning_sequence = tag_string(ds, 0x0018, 0x0020);
  s.sequence_variant = tag_string(ds, 0x0018, 0x0021);
  s.scan_options = tag_string(ds, 0x0018, 0x0022);
  const std::vector<double> ti = tag_doubles(ds, 0x0018, 0x0082);
  if (!ti.empty() && std::isfinite(ti[0])) s.inversion_time_ms = ti[0];
  // Rows/Columns are US (binary), in host order once GDCM has parsed them.
  for (auto [e, dst] : {std::pair<uint16_t, int64_t*>{0x0010, &s.rows}, {0x0011, &s.cols}}) {
    const gdcm::DataElement& de = ds.GetDataElement(gdcm::Tag(0x0028, e));
    const gdcm::ByteValue* bv = de.GetByteValue();
    uint16_t v = 0;
    if (bv && bv->GetLength() == 2) std::memcpy(&v, bv->GetPointer(), 2);
    *dst = v;
  }
  const std::vector<double> nf = tag_doubles(ds, 0x0028, 0x0008);
  const int64_t frames = nf.empty() || !(nf[0] >= 1 && nf[0] <= 1e6) ? 1 : int64_t(nf[0]);
  const gdcm::DataSet* pf1 = seq_item(ds, 0x5200, 0x9230, 1);
  const std::vector<double> iop = group_value(ds, pf1, 0x0020, 0x9116, 0x0020, 0x0037);
  const std::vector<double> ps = group_value(ds, pf1, 0x0028, 0x9110, 0x0028, 0x0030);
  if (iop.size() == 6) std::copy(iop.begin(), iop.end(), h.iop.begin()), h.has_iop = true;
  if (ps.size() == 2) s.spacing_mm = {ps[1], ps[0], 0};
  for (int64_t f = 0; f < frames; ++f) {
    const gdcm::DataSet* pf = frames > 1 ? seq_item(ds, 0x5200, 0x9230, size_t(f + 1)) : nullptr;
    const std::vector<double> ipp = group_value(ds, pf, 0x0020, 0x9113, 0x0020, 0x0032);
    if (ipp.size() == 3) h.positions.push_back({ipp[0], ipp[1], ipp[2]});
  }
  s.slices = frames;
  s.files = {file};
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string orientation_of(const std::array<double, 6>& iop) {
  std::array<double, 3> n = {iop[1] * iop[5] - iop[2] * iop[4], iop[2] * iop[3] - iop[0] * iop[5],
                             iop[0] * iop[4] - iop[1] * iop[3]};
  const double len = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  if (!(len > 1e-6)) return "unknown";
  int axis = 0;
  for (int a = 1; a < 3; ++a)
    if (std::fabs(n[a]) > std::fabs(n[axis])) axis = a;
  if (std::fabs(n[axis]) / len < std::cos(20.0 * M_PI / 180.0)) return "oblique";
  return axis == 0 ? "sagittal" : axis == 1 ? "coronal" : "axial";
}

void add_hints(DicomSeriesInfo& s) {
  const bool ir = s.scanning_sequence.find("IR") != std::string::npos || s.inversion_time_ms > 0;
  if (ir) s.hints.push_back("inversion_recovery");
  if (ir && s.inversion_time_ms > 0 && s.inversion_time_ms < 300) s.hints.push_back("stir");
  if (ir && s.inversion_time_ms > 1500) s.hints.push_back("flair");
  const std::string opts = lower(s.scan_options), names = lower(s.description + " " + s.protocol);
  bool fat = false;
  for (const char* k : {"fs", "fat", "spair", "spir", "chess"}) fat = fat || opts.find(k) != std::string::npos;
  for (const char* k : {"stir", "spair", "fatsat", "fat_sat", "_fs", " fs"}) fat = fat || names.find(k) != std::string::npos;
  if (fat) s.hints.push_back("fat_suppressed");
  const std::string type = lower(s.image_type);
  if (type.find("localizer") != std::string::npos) s.hints.push_back("localizer");
  if (type.find("mosaic") != std::string::npos) s.hints.push_back("mosaic");
}

long as_number(const std::string& s, bool& ok) {
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  ok = !s.empty() && *end == '\0';
  return v;
}

}  // namespace

std::vector<DicomSeriesInfo> list_dicom_series(const std::string& dir, std::vector<std::string>* skipped) {
  std::map<std::string, DicomSeriesInfo> by_uid;
  std::map<std::string, std::vector<std::array<double, 6>>> iops;
  std::map<std::string, std::vector<std::array<double, 3>>> positions;
  // An export's DICOMDIR names its files; without one the folder is walked.
  const std::string dicomdir = is_dicomdir_file(dir) ? dir : find_dicomdir(dir);
  for (const std::string& f : dicomdir.empty() ? regular_files_under(dir) : dicomdir_files(dicomdir)) {
    FileHeader h;
    try {
      if (!read_header(f, h)) continue;
    } catch (const Error& e) {
      if (!skipped) throw;
      skipped->push_back(f + ": " + e.what());
      continue;
    }
    const std::string uid = h.info.uid;
    auto it = by_uid.find(uid);
    if (it == by_uid.end()) {
      by_uid.emplace(uid, h.info);
    } else {
      it->second.files.push_back(f);
      it->second.slices += h.info.slices;
    }
    if (h.has_iop) iops[uid].push_back(h.iop);
    positions[uid].insert(positions[uid].end(), h.positions.begin(), h.positions.end());
  }
  std::vector<DicomSeriesInfo> out;
  for (auto& [uid, s] : by_uid) {
    const auto& io = iops[uid];
    s.orientation = io.empty() ? "unknown" : orientation_of(io[0]);
    for (const auto& o : io)
      for (int i = 0; i < 6; ++i)
        if (std::fabs(o[i] - io[0][i]) > 1e-3) s.orientation = "mixed";
    if (!io.empty() && s.orientation != "mixed") {
      const auto& o = io[0];
      const std::array<double, 3> n = {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
      std::vector<double> p;
      for (const auto& x : positions[uid]) p.push_back(x[0] * n[0] + x[1] * n[1] + x[2] * n[2]);
      std::sort(p.begin(), p.end());
      std::vector<double> gaps;
      for (size_t k = 1; k < p.size(); ++k) gaps.push_back(p[k] - p[k - 1]);
      if (!gaps.empty()) {
        std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
        s.spacing_mm[2] = gaps[gaps.size() / 2];
      }
    }
    add_hints(s);
    std::sort(s.files.begin(), s.files.end());
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const DicomSeriesInfo& a, const DicomSeriesInfo& b) {
    bool oa, ob;
    const long na = as_number(a.number, oa), nb = as_number(b.number, ob);
    if (oa != ob) return oa;
    if (oa && na != nb) return na < nb;
    return a.uid < b.uid;
  });
  return out;
}

std::pair<std::string, SeriesSelector> split_series_selector(const std::string& path) {
  const size_t hash = path.rfind('#');
  struct stat st;
  if (hash == std::string::npos || ::stat(path.c_str(), &st) == 0) return {path, {}};
  const std::string sel = path.substr(hash + 1);
  const size_t eq = sel.find('=');
  const std::string key = sel.substr(0, eq);
  if (eq == std::string::npos || (key != "series" && key != "series-number" && key != "series-description"))
    fail(Status::invalid_argument, "unknown series selector '#" + sel + "' in '" + path +
                                       "'; use DIR#series=UID, DIR#series-number=N or DIR#series-description=GLOB");
  return {path.substr(0, hash), {key, sel.substr(eq + 1)}};
}

std::string series_table(const std::vector<DicomSeriesInfo>& all) {
  std::string t;
  for (const auto& s : all) {
    char line[256];
    std::snprintf(line, sizeof line, "  #%-4s %-28s %-3s %-9s %lldx%lldx%lld  UID %s\n", s.number.empty() ? "-" : s.number.c_str(),
                  ("'" + s.description + "'").c_str(), s.modality.c_str(), s.orientation.c_str(),
                  static_cast<long long>(s.cols), static_cast<long long>(s.rows), static_cast<long long>(s.slices), s.uid.c_str());
    t += line;
  }
  return t;
}

const DicomSeriesInfo& select_series(const std::vector<DicomSeriesInfo>& all, const SeriesSelector& sel,
                                     const std::string& dir) {
  if (all.empty()) fail(Status::corrupt_file, "no readable DICOM image in '" + dir + "'");
  const std::string how = "; choose one by appending #series=UID, #series-number=N or #series-description=GLOB to "
                          "the folder's path (voxinfer series DIR lists them):\n" + series_table(all);
  if (sel.empty()) {
    if (all.size() == 1) return all[0];
    fail(Status::invalid_argument, "folder '" + dir + "' holds " + std::to_string(all.size()) + " DICOM series" + how);
  }
  std::vector<const DicomSeriesInfo*> hit;
  for (const auto& s : all) {
    bool ok = false;
    if (sel.key == "series") {
      ok = s.uid == sel.value;
    } else if (sel.key == "series-number") {
      bool a, b;
      const long x = as_number(s.number, a), y = as_number(sel.value, b);
      ok = a && b && x == y;
    } else {
      ok = ::fnmatch(sel.value.c_str(), s.description.c_str(), FNM_CASEFOLD) == 0;
    }
    if (ok) hit.push_back(&s);
  }
  const std::string what = "#" + sel.key + "=" + sel.value;
  if (hit.empty()) fail(Status::invalid_argument, "no DICOM series in '" + dir + "' matches " + what + how);
  if (hit.size() > 1)
    fail(Status::invalid_argument, std::to_string(hit.size()) + " DICOM series in '" + dir + "' match " + what + how);
  return *hit[0];
}

}  // namespace vx
