// DICOMDIR exports (lib/io/dicomdir.h), against pydicom's FileSet reading of the same files
// (gen_dicomdir_fixtures.py): pydicom's own DICOMDIR test files in every variant it ships
// (explicit/implicit VR, big endian, offsets left out, records reordered) and an export that
// FileSet wrote from series made of the real data. Our records give each series the same
// files as FileSet; list_dicom_series on an export reads its DICOMDIR (not the folder walk);
// each series, selected in the export (folder or DICOMDIR path, names lower-cased or not), has
// exactly the voxels and geometry of reading its own folder directly; a missing file, and a
// record pointing outside the export, are refused naming them; damaged bytes are refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "common/fixtures.h"
#include "core/error.h"
#include "io/dicom_series.h"
#include "io/dicomdir.h"
#include "io/volume_io.h"

using namespace vx;

namespace {

nlohmann::json manifest() { return test::read_json(test::fixture_dir("dicomdir") + "/manifest.json"); }

std::string error_of(const std::string& path, Status* status = nullptr) {
  try {
    list_dicom_series(path);
  } catch (const Error& e) {
    if (status) *status = e.status();
    return e.what();
  }
  return "";
}

std::string real(const std::string& p) {
  char buf[4096];
  return ::realpath(p.c_str(), buf) ? buf : p;
}

// Series UID -> the files (absolute, sorted) below each SERIES record, from our parse.
std::map<std::string, std::set<std::string>> series_files(const std::string& dicomdir) {
  const Dicomdir dd = read_dicomdir(dicomdir);
  const std::string root = dicomdir.substr(0, dicomdir.rfind('/'));
  std::map<std::string, std::set<std::string>> out;
  for (const auto& r : dd.records) {
    if (r.file_id.empty()) continue;
    int p = r.parent;
    while (p >= 0 && dd.records[size_t(p)].type != "SERIES") p = dd.records[size_t(p)].parent;
    REQUIRE(p >= 0);
    const std::string f = resolve_file_id(root, r.file_id);
    REQUIRE(!f.empty());
    out[dd.records[size_t(p)].series_uid].insert(real(f));
  }
  return out;
}

std::vector<uint8_t> bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("pydicom's DICOMDIR test files: every variant gives FileSet's series and files") {
  const nlohmann::json m = manifest();  // named: a range-for over manifest()["pydicom"] would outlive the temporary
  for (const auto& v : m["pydicom"]) {
    const std::string dd = v["dicomdir"];
    INFO(dd);
    const auto got = series_files(dd);
    REQUIRE(got.size() == v["series"].size());
    for (const auto& s : v["series"]) {
      INFO(s["uid"].get<std::string>());
      REQUIRE(got.count(s["uid"]));
      const auto want = s["files"].get<std::vector<std::string>>();
      CHECK(got.at(s["uid"]) == std::set<std::string>(want.begin(), want.end()));
    }
  }
}

TEST_CASE("a folder with pydicom's DICOMDIR lists FileSet's series, not what a walk finds") {
  const auto v = manifest()["pydicom"][0];
  const std::string dd = v["dicomdir"];
  const std::string folder = dd.substr(0, dd.rfind('/'));
  std::vector<std::string> skipped;
  const auto all = list_dicom_series(folder, &skipped);
  CHECK(skipped.empty());
  // The walk would add TINY_ALPHA's series (its own export, a folder below); the DICOMDIR names only its own.
  REQUIRE(all.size() == v["series"].size());
  for (const auto& s : v["series"]) {
    const DicomSeriesInfo* got = nullptr;
    for (const auto& a : all)
      if (a.uid == s["uid"]) got = &a;
    REQUIRE(got != nullptr);
    CHECK(got->number == s["number"].get<std::string>());
    CHECK(got->modality == s["modality"].get<std::string>());
    std::set<std::string> files;
    for (const auto& f : got->files) files.insert(real(f));
    const auto want = s["files"].get<std::vector<std::string>>();
    CHECK(files == std::set<std::string>(want.begin(), want.end()));
  }
}

TEST_CASE("a FileSet export of the real series: listed, and each selected reads as its own folder") {
  const auto m = manifest();
  for (const std::string& root : {m["export"].get<std::string>(), m["lower"].get<std::string>()}) {
    INFO(root);
    const auto all = list_dicom_series(root);
    REQUIRE(all.size() == m["series"].size());
    for (const auto& s : m["series"]) {
      const std::string uid = s["uid"];
      INFO(s["description"].get<std::string>());
      const DicomSeriesInfo* got = nullptr;
      for (const auto& a : all)
        if (a.uid == uid) got = &a;
      REQUIRE(got != nullptr);
      CHECK(got->description == s["description"].get<std::string>());
      CHECK(got->files.size() == s["files"].size());
      const Volume want = read_volume(s["direct"].get<std::string>());
      const std::string dicomdir = root + (root == m["lower"] ? "/dicomdir" : "/DICOMDIR");
      for (const std::string& path : {root + "#series=" + uid, dicomdir + "#series=" + uid,
                                     root + "#series-number=" + s["number"].get<std::string>()}) {
        INFO(path);
        const Volume v = read_volume(path);
        REQUIRE(v.size_ijk() == want.size_ijk());
        CHECK(test::max_abs_diff(v.data, want.data) == 0);
        for (int i = 0; i < 16; ++i) CHECK(v.affine[i] == want.affine[i]);
      }
    }
  }
}

TEST_CASE("a missing file and records pointing outside the export are refused, naming them") {
  const auto m = manifest();
  Status st = Status::ok;
  std::string msg = error_of(m["missing"], &st);
  CHECK(st == Status::io_error);
  CHECK(msg.find(m["missing_id"].get<std::string>()) != std::string::npos);
  CHECK(msg.find("1 file(s)") != std::string::npos);
  for (const char* which : {"outside", "absolute"}) {
    INFO(which);
    msg = error_of(m[which], &st);
    CHECK(st == Status::corrupt_file);
    CHECK(msg.find("points outside its folder") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(resolve_file_id(m["export"], {"PT000000", "..", "..", "direct"}), doctest::Contains("outside"), Error);
  CHECK_THROWS_AS(resolve_file_id(m["export"], {"PT000000", "A/B"}), Error);
  CHECK(resolve_file_id(m["export"], {"PT000000", "NOSUCH"}).empty());
}

TEST_CASE("damaged DICOMDIR bytes are refused clearly, never read past their end") {
  const auto m = manifest();
  const std::vector<uint8_t> good = bytes_of(m["export"].get<std::string>() + "/DICOMDIR");
  REQUIRE(good.size() > 400);
  CHECK(parse_dicomdir(good.data(), good.size(), "x").records.size() > 50);
  // Cut at every length: corrupt_file, never a crash (ASan/fuzzing check the reads), and never a
  // shorter or different list of records, even where the cut falls on an element boundary. (A cut
  // that drops only the last record's trailing elements, none of them read, may parse.)
  const Dicomdir whole = parse_dicomdir(good.data(), good.size(), "x");
  const auto same_records = [&](const Dicomdir& d) {
    if (d.records.size() != whole.records.size()) return false;
    for (size_t i = 0; i < d.records.size(); ++i) {
      const DicomdirRecord &a = d.records[i], &b = whole.records[i];
      if (a.type != b.type || a.file_id != b.file_id || a.sop_instance_uid != b.sop_instance_uid ||
          a.series_uid != b.series_uid || a.parent != b.parent)
        return false;
    }
    return true;
  };
  int refused = 0, cuts = 0;
  for (size_t n = 0; n < good.size(); n += 7, ++cuts) {
    const std::vector<uint8_t> cut(good.begin(), good.begin() + long(n));
    try {
      const Dicomdir d = parse_dicomdir(cut.data(), cut.size(), "cut");
      INFO("cut at byte " << n << " of " << good.size() << " parsed");
      CHECK(same_records(d));
    } catch (const Error& e) {
      CHECK(e.status() == Status::corrupt_file);
      ++refused;
    }
  }
  CHECK(refused > cuts * 9 / 10);
  // Cut where a record item starts (an element boundary, the hard case): refused as cut short.
  const uint8_t item_tag[] = {0xfe, 0xff, 0x00, 0xe0};
  int boundaries = 0;
  for (auto it = std::search(good.begin(), good.end(), std::begin(item_tag), std::end(item_tag)); it != good.end();
       it = std::search(it + 1, good.end(), std::begin(item_tag), std::end(item_tag)), ++boundaries) {
    const std::vector<uint8_t> cut(good.begin(), it);
    CHECK_THROWS_WITH_AS(parse_dicomdir(cut.data(), cut.size(), "cut"), doctest::Contains("cut short"), Error);
  }
  CHECK(boundaries > 50);
  // The root record's next-record offset pointed back at itself: a loop, refused.
  const uint8_t root_tag[] = {0x04, 0x00, 0x00, 0x12, 'U', 'L', 4, 0};
  const auto at = std::search(good.begin(), good.end(), std::begin(root_tag), std::end(root_tag));
  REQUIRE(at != good.end());
  const size_t root = size_t(at[8]) | size_t(at[9]) << 8 | size_t(at[10]) << 16 | size_t(at[11]) << 24;
  std::vector<uint8_t> loop = good;
  REQUIRE(loop[root + 8] == 0x04);  // the record starts with (0004,1400) OffsetOfTheNextDirectoryRecord
  REQUIRE(loop[root + 10] == 0x00);
  REQUIRE(loop[root + 11] == 0x14);
  std::copy(at + 8, at + 12, loop.begin() + long(root) + 16);
  CHECK_THROWS_WITH_AS(parse_dicomdir(loop.data(), loop.size(), "loop"), doctest::Contains("loop"), Error);
  const Dicomdir dd = parse_dicomdir(good.data(), good.size(), "x");
  CHECK(dd.records[0].type == "PATIENT");
  CHECK(dd.records[0].parent == -1);
  CHECK(dd.records[1].type == "STUDY");
  CHECK(dd.records[1].parent == 0);
  // Not a DICOMDIR: a DICOM image.
  const std::vector<uint8_t> image = bytes_of(m["series"][0]["files"][0].get<std::string>());
  CHECK_THROWS_WITH_AS(parse_dicomdir(image.data(), image.size(), "img"), doctest::Contains("is not a DICOMDIR"), Error);
}
