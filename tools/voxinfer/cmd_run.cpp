// voxinfer run --model M.vxm --input SCAN [--input SCAN2] --out DIR [--gradcam] [--threads N] [--json]
//              [--resample-uneven-slices] [--replace-non-finite]
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "pipeline/run_model.h"
#include "progress.h"
#include "read_flags.h"

namespace vx::cli {

int cmd_run(int argc, char** argv) {
  Args args(argc, argv, 2, {"model", "input", "out", "threads", "expect-sha256"}, with_read_flags({"gradcam", "no-png", "quiet", "json"}));
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
