// `voxinfer series`: the DICOM series under a folder (recursive), with what a user needs to
// choose one (io/dicom_series.h) and the path that selects it. Its usage is kSeriesSpec below.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"
#include "core/error.h"
#include "io/dicom_series.h"
#include "io/dicomdir.h"

namespace vx::cli {

const CommandSpec kSeriesSpec{
    "series", "DIR [--json]",
    "Lists the DICOM series under a folder (searched recursively, or the files its DICOMDIR names\n"
    "when it has one; DIR may be the DICOMDIR itself): UID, number, description,\n"
    "modality, sequence hints, orientation, size, spacing, and the path that reads each one\n"
    "(DIR#series=UID, DIR#series-number=N or DIR#series-description=GLOB, wherever a scan path is taken).",
    {{"json", nullptr, "print one JSON object (with each series' selector path) instead of text"}},
    "voxinfer series /media/export --json"};

int cmd_series(int argc, char** argv) {
  Args args(argc, argv, 2, kSeriesSpec);
  if (args.positional().size() != 1) throw UsageError("give one folder", usage(kSeriesSpec));
  const std::string dir = args.positional()[0];
  std::vector<std::string> skipped;  // damaged files are named, not fatal, in a listing
  const auto all = list_dicom_series(dir, &skipped);
  const std::string dicomdir = is_dicomdir_file(dir) ? dir : find_dicomdir(dir);  // what list_dicom_series read
  if (!args.flag("json")) {
    if (all.empty()) fail(Status::corrupt_file, "no readable DICOM image in '" + dir + "'" + (skipped.empty() ? "" : " (" + std::to_string(skipped.size()) + " damaged file(s), first " + skipped[0] + ")"));
    std::printf("%zu DICOM series in %s%s (read one as %s#series-number=N or #series=UID):\n", all.size(), dir.c_str(),
                dicomdir.empty() ? "" : ", as its DICOMDIR names them", dir.c_str());
    for (const auto& s : all) {
      std::printf("%s        ", series_table({s}).c_str());
      if (!s.sequence_name.empty() || !s.scanning_sequence.empty())
        std::printf("sequence %s (%s), ", s.sequence_name.c_str(), s.scanning_sequence.c_str());
      std::printf("spacing %.3f x %.3f x %.3f mm", s.spacing_mm[0], s.spacing_mm[1], s.spacing_mm[2]);
      if (s.inversion_time_ms >= 0) std::printf(", TI %.0f ms", s.inversion_time_ms);
      for (const auto& h : s.hints) std::printf(", %s", h.c_str());
      std::printf("\n");
    }
    for (const auto& f : skipped) std::fprintf(stderr, "voxinfer series: warning: skipped damaged file %s\n", f.c_str());
    return 0;
  }
  nlohmann::json out;
  out["folder"] = dir;
  out["dicomdir"] = dicomdir.empty() ? nlohmann::json() : nlohmann::json(dicomdir);  // null: the folder was walked
  out["series"] = nlohmann::json::array();
  for (const auto& s : all) {
    out["series"].push_back({{"series_instance_uid", s.uid},
                             {"series_number", s.number},
                             {"series_description", s.description},
                             {"protocol_name", s.protocol},
                             {"modality", s.modality},
                             {"image_type", s.image_type},
                             {"sequence_name", s.sequence_name},
                             {"scanning_sequence", s.scanning_sequence},
                             {"sequence_variant", s.sequence_variant},
                             {"scan_options", s.scan_options},
                             {"inversion_time_ms", s.inversion_time_ms >= 0 ? nlohmann::json(s.inversion_time_ms) : nlohmann::json()},
                             {"hints", s.hints},
                             {"orientation", s.orientation},
                             {"size", {s.cols, s.rows, s.slices}},
                             {"spacing_mm", s.spacing_mm},
                             {"files", s.files.size()},
                             {"path", dir + "#series=" + s.uid}});
  }
  out["skipped"] = skipped;
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace vx::cli
