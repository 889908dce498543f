// `voxinfer run`: its usage (every option, what it does, an example) is kRunSpec below,
// the table its parser reads.
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "pipeline/run_model.h"
#include "progress.h"
#include "read_flags.h"

namespace vx::cli {

const CommandSpec kRunSpec{
    "run", "--model M.vxm --input SCAN [--input SCAN2] --out DIR [options]",
    "Runs one model on NIfTI files or DICOM folders (one --input per model input, in its order)\n"
    "and writes each output on the input's grid (NIfTI) or its probabilities, plus summary.json,\n"
    "into DIR atomically.",
    with_read_flags({{"model", "M.vxm", "the model file (required)"},
     {"input", "SCAN", "a NIfTI file or DICOM folder; repeat for each model input (required)"},
     {"out", "DIR", "the output folder, created if needed (required)"},
     {"threads", "N", "OpenMP threads (default 0 = all cores)"},
     {"expect-sha256", "HEX", "refuse a model file whose SHA-256 differs (default: accept any)"},
     {"gradcam", nullptr, "also write a Grad-CAM map per input (default: off)"},
     {"no-png", nullptr, "no PNG montages of the maps (default: written with --gradcam)"},
     {"no-preprocessing", nullptr, "do not run the model's declared preprocessing plan (default: run it when\n"
                                   "                        the model declares one; else resize + its normalisation)"},
     {"quiet", nullptr, "no progress on stderr"},
     {"json", nullptr, "print the summary as JSON instead of text"}}),
    "voxinfer run --model seg.vxm --input t2.nii.gz --out results/ --threads 4"};

int cmd_run(int argc, char** argv) {
  Args args(argc, argv, 2, kRunSpec);
  LoadOptions lo;
  lo.expected_sha256 = args.get("expect-sha256");
  auto model = Model::load_file(args.need("model"), lo);
  const auto inputs = args.all("input");
  if (inputs.empty()) fail(Status::invalid_argument, "give at least one --input (NIfTI file or DICOM folder)");
  const std::string out = args.need("out");
  set_threads(args);
  Progress progress(args.flag("quiet"));
  pipeline::RunOptions opt;
  opt.gradcam = args.flag("gradcam");
  opt.png = !args.flag("no-png");
  opt.preprocessing = !args.flag("no-preprocessing");
  opt.read = read_options(args);
  opt.progress = [&](const std::string& s, int64_t d, int64_t t) { return progress.update(s, d, t); };
  nlohmann::json r = pipeline::run_model_on_scans(*model, inputs, out, opt);
  progress.finish();
  print_input_warnings(r, "run");
  if (args.flag("json")) {
    std::printf("%s\n", r.dump(2).c_str());
  } else {
    for (const auto& o : r["outputs"]) {
      std::printf("output %s", o["name"].get<std::string>().c_str());
      if (o.contains("predicted_class")) std::printf(": class %d, probabilities %s", o["predicted_class"].get<int>(), o["probabilities"].dump().c_str());
      if (o.contains("nifti")) std::printf(" -> %s/%s", out.c_str(), o["nifti"].get<std::string>().c_str());
      std::printf("\n");
    }
    std::printf("wrote %zu files to %s\n", r["files"].size(), out.c_str());
  }
  return 0;
}

}  // namespace vx::cli
