// `voxinfer`: the command-line front end. Every failure ends with a message on stderr and
// a non-zero exit; outputs are written atomically by the commands.
#include <cstdio>
#include <cstring>
#include <string>

#include "commands.h"
#include "core/error.h"
#include "voxinfer/voxinfer.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* help;
};

const Command kCommands[] = {
    {"exam", vx::cli::cmd_exam,
     "exam --input T1 --input STIR --out DIR [--models DIR] [--threads N] [--no-gradcam] [--no-png] [--json]\n"
     "        [--resample-uneven-slices] [--replace-non-finite]\n"
     "        the published two-sequence chain: denoise, classify, Grad-CAM per sequence, segment lesions"},
    {"run", vx::cli::cmd_run,
     "run --model M.vxm --input SCAN [--input SCAN2] --out DIR [--gradcam] [--threads N] [--json]\n"
     "        [--resample-uneven-slices] [--replace-non-finite]\n"
     "        one model on NIfTI files or DICOM folders; outputs on the input's grid + summary.json"},
    {"n4", vx::cli::cmd_n4,
     "n4 --input IN --out OUT.nii.gz [--shrink N] [--iterations 50,50,50,50] [--mask M | --otsu] [--bias-out F]\n"
     "        [--resample-uneven-slices] [--replace-non-finite]\n"
     "        N4 bias-field correction"},
    {"preprocess", vx::cli::cmd_preprocess,
     "preprocess --input IN --out OUT.nii.gz --target denoiser|classifier [--shrink N] [--no-n4] [--plan P.json]\n"
     "        [--resample-uneven-slices] [--replace-non-finite]\n"
     "        the published preprocessing chain (resample, clip, N4, resize, normalise) with step timings"},
    {"cohort", vx::cli::cmd_cohort,
     "cohort --manifest M.csv --out DIR [--models DIR] [--scheduler ADDR | --workers 2] [--threads-per-worker 1]\n"
     "        many examinations on Dask (resumable), result table and validation report"},
    {"series", vx::cli::cmd_series,
     "series DIR [--json]\n"
     "        the DICOM series under a folder (recursive): UID, number, description, sequence hints,\n"
     "        orientation, size, spacing; read one as DIR#series=UID, DIR#series-number=N or\n"
     "        DIR#series-description=GLOB wherever a scan path is taken"},
    {"info", vx::cli::cmd_info, "info MODEL.vxm [--json]\n        a model's metadata, inputs, outputs and SHA-256"},
};

void usage(FILE* f) {
  std::fprintf(f, "voxinfer %s — medical-imaging inference engine\n\nusage: voxinfer COMMAND [options]\n\n", vx_version());
  for (const auto& c : kCommands) std::fprintf(f, "  voxinfer %s\n", c.help);
  std::fprintf(f, "\n  voxinfer --version\n");
  std::fprintf(f, "\nreading scans (exam, run, n4, preprocess):\n"
                  "  --resample-uneven-slices  a DICOM series with a missing slice or changing gaps is resampled onto a\n"
                  "                            regular grid in world space, with a warning, instead of refused\n"
                  "  --replace-non-finite      NaN/Inf voxels become 0 instead of an error\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("%s\n", vx_version());
    return 0;
  }
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    try {
      return c.run(argc, argv);
    } catch (const vx::Error& e) {
      std::fprintf(stderr, "voxinfer %s: error: %s\n", c.name, e.what());
      return e.status() == vx::Status::invalid_argument ? 2 : 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "voxinfer %s: internal error: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "voxinfer: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
