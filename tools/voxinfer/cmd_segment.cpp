// `voxinfer segment`: an imported nnU-Net model (weights/convert.py --from-nnunet) on one case,
// as nnUNetPredictor predicts it (lib/nnunet/predictor.h). Its usage is kSegmentSpec below.
#include <cstdio>
#include <cstdlib>

#include "args.h"
#include "commands.h"
#include "nnunet/predictor.h"
#include "nnunet/write_prediction.h"
#include "progress.h"
#include "read_flags.h"

namespace vx::cli {

const CommandSpec kSegmentSpec{
    "segment", "--model M.vxm --input CASE_0000.nii.gz [--input CASE_0001.nii.gz ...] --out SEG.nii.gz [options]",
    "Segments one case with an imported nnU-Net model as nnUNetPredictor does: its preprocessing,\n"
    "the Gaussian-weighted sliding window with mirroring, the fold average (float16 sums, as nnU-Net\n"
    "on the CPU), and labels back on the input's grid (uint8, or uint16 above 254 labels).",
    with_read_flags({{"model", "M.vxm", "the imported nnU-Net model (required)"},
     {"input", "SCAN", "a NIfTI file or DICOM folder per model channel, in the channel order (required)"},
     {"out", "SEG.nii.gz", "the label volume, written atomically (required)"},
     {"probabilities", "P.nii.gz", "also write the per-class probabilities (4-D float32; default: not written)"},
     {"folds", "0,1|all", "the folds to average (default all the model holds)"},
     {"no-mirroring", nullptr, "no test-time mirroring (default: every combination of the allowed axes)"},
     {"step", "S", "tile step as a fraction of the patch, in (0, 1] (default 0.5)"},
     {"threads", "N", "OpenMP threads (default 0 = all cores)"},
     {"memory-limit", "MB", "fail before starting when the estimated peak exceeds MB (default: no limit)"},
     {"fp32-accumulation", nullptr, "sum tiles and folds in float32 (default: float16, as nnU-Net)"},
     {"quiet", nullptr, "no progress on stderr"}}),
    "voxinfer segment --model Dataset001.vxm --input case_0000.nii.gz --out case.nii.gz --folds 0,1"};

namespace {

std::vector<std::string> split_folds(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty() || s == "all") return out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const std::string f = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (f.empty()) fail(Status::invalid_argument, "--folds '" + s + "': an empty fold name");
    out.push_back(f);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

double parse_double(const std::string& name, const std::string& v) {
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end) fail(Status::invalid_argument, "--" + name + " '" + v + "' is not a number");
  return d;
}

}  // namespace

int cmd_segment(int argc, char** argv) {
  Args args(argc, argv, 2, kSegmentSpec);
  const auto model = Model::load_file(args.need("model"));
  const auto inputs = args.all("input");
  if (inputs.empty()) fail(Status::invalid_argument, "give one --input per model channel (NIfTI file or DICOM folder)");
  const std::string out = args.need("out");
  const std::string prob = args.get("probabilities");
  nnunet::check_nifti_name(out);
  if (!prob.empty()) nnunet::check_nifti_name(prob);
  set_threads(args);
  nnunet::PredictOptions opt;
  opt.folds = split_folds(args.get("folds"));
  opt.mirroring = !args.flag("no-mirroring");
  if (args.has("step")) {
    opt.tile_step_size = parse_double("step", args.get("step"));
    if (!(opt.tile_step_size > 0 && opt.tile_step_size <= 1)) fail(Status::invalid_argument, "--step must be in (0, 1]");
  }
  if (args.has("memory-limit")) {
    const double mb = parse_double("memory-limit", args.get("memory-limit"));
    if (!(mb > 0)) fail(Status::invalid_argument, "--memory-limit must be a positive number of MB");
    opt.memory_limit_bytes = int64_t(mb * 1048576.0);
  }
  opt.fp32_accumulation = args.flag("fp32-accumulation");
  opt.probabilities = !prob.empty();
  const VolumeReadOptions ro = read_options(args);
  std::vector<Volume> channels;
  for (const auto& in : inputs) channels.push_back(read_input(in, ro, "segment"));
  Progress progress(args.flag("quiet"));
  opt.progress = [&](const std::string& s, int64_t d, int64_t t) { return progress.update(s, d, t); };
  const auto r = nnunet::predict(*model, channels, opt);
  progress.finish();

  nnunet::write_prediction(r, channels[0], out, prob);
  std::printf("segmented with folds");
  for (const auto& f : r.folds) std::printf(" %s", f.c_str());
  std::printf(": %lld tiles, %lld network runs, estimated peak %lld MB -> %s\n", static_cast<long long>(r.tiles),
              static_cast<long long>(r.network_runs), static_cast<long long>(r.estimated_peak_bytes >> 20), out.c_str());
  return 0;
}

}  // namespace vx::cli
