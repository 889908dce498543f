// `voxinfer dicom-seg`: a label mask (NIfTI) on a DICOM series' grid as a DICOM Segmentation
// that references that series (io/dicom_seg_write.h). Its usage is kDicomSegSpec below.
#include <cstdio>
#include <sstream>

#include "args.h"
#include "commands.h"
#include "io/dicom_seg_write.h"
#include "io/dicom_source.h"
#include "io/volume_io.h"
#include "read_flags.h"
#include "voxinfer/voxinfer.h"

namespace vx::cli {

const CommandSpec kDicomSegSpec{
    "dicom-seg", "--mask MASK.nii.gz --reference DICOM_DIR[#series=UID] --out SEG.dcm [options]",
    "Writes a label mask as a DICOM Segmentation (binary, one segment per label) for a PACS:\n"
    "same study and frame of reference as the reference series, each frame placed on a slice of\n"
    "it and derived from the image there. The mask must be on the reference series' voxel grid\n"
    "(as voxinfer reads the series, e.g. a mask voxinfer wrote for it); otherwise it is refused.",
    with_read_flags({{"mask", "MASK.nii.gz", "the label mask, integer labels 0..65535 (required)"},
     {"reference", "DICOM", "the DICOM series the mask was made on: folder, DIR#series=UID, DIR#series-number=N\n"
                            "                        or one multi-frame file (required)"},
     {"out", "SEG.dcm", "the DICOM Segmentation file, written atomically (required)"},
     {"label-names", "a,b", "names of labels 1, 2, ...: each becomes a segment, even when empty\n"
                            "                        (default: the non-zero labels present, named \"label N\")"},
     {"series-description", "TEXT", "SeriesDescription of the new series (default: voxinfer segmentation)"},
     {"quiet", nullptr, "no summary on stdout"}}),
    "voxinfer dicom-seg --mask exam1/lesion_mask.nii.gz --reference dicom/#series-number=5 --out lesion_seg.dcm "
    "--label-names lesion"};

int cmd_dicom_seg(int argc, char** argv) {
  Args args(argc, argv, 2, kDicomSegSpec);
  const VolumeReadOptions ro = read_options(args);
  const std::string ref_path = args.need("reference"), out = args.need("out");
  const Volume mask = read_input(args.need("mask"), ro, "dicom-seg");
  const DicomSource src = read_dicom_source(ref_path);
  const Volume reference = read_input(ref_path, ro, "dicom-seg");
  DicomSegOptions opt;
  if (args.has("label-names")) {
    std::stringstream ss(args.get("label-names"));
    std::string name;
    while (std::getline(ss, name, ',')) {
      if (name.empty()) fail(Status::invalid_argument, "--label-names has an empty name");
      opt.label_names.push_back(name);
    }
  }
  if (args.has("series-description")) opt.series_description = args.get("series-description");
  opt.software_version = vx_version();
  const DicomSegResult r = write_dicom_seg(out, mask, reference, src, opt);
  if (!args.flag("quiet")) {
    std::printf("wrote %s: %zu segment(s), %lld frame(s), SeriesInstanceUID %s\n", out.c_str(), r.labels.size(),
                static_cast<long long>(r.frames), r.series_instance_uid.c_str());
    if (r.frames_interpolated)
      std::printf("  %lld frame(s) lie at resampled slices: each derives from the two source images around it\n",
                  static_cast<long long>(r.frames_interpolated));
  }
  return 0;
}

}  // namespace vx::cli
