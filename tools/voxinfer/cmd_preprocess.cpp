// `voxinfer preprocess`: its usage (every option, what it does, an example) is kPreprocessSpec below,
// the table its parser reads.
// Runs the published preprocessing chain (preprocess/sij_recipe.h), or a plan given as a JSON
// array of steps, and writes the result atomically. Per-step timings go to stdout.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "args.h"
#include "commands.h"
#include "core/error.h"
#include "io/nifti.h"
#include "io/volume_io.h"
#include "pipeline/staging.h"
#include "preprocess/sij_recipe.h"
#include "read_flags.h"

namespace vx::cli {

const CommandSpec kPreprocessSpec{
    "preprocess", "--input IN --out OUT.nii.gz (--target denoiser|classifier | --plan P.json) [options]",
    "The published sacroiliac-joint preprocessing chain (resample to 1 x 1 x 3.5 mm, clip, N4,\n"
    "resize, normalise) or a saved plan, with the time of each step.",
    with_read_flags({{"input", "IN", "a NIfTI file or DICOM folder (required)"},
     {"out", "OUT.nii.gz", "the preprocessed volume (required)"},
     {"target", "NAME", "denoiser or classifier: the chain for that model (this or --plan)"},
     {"plan", "P.json", "run the steps of this plan instead (a report's \"plan\" or the plan itself)"},
     {"shrink", "N", "N4 shrink factor (default 1)"},
     {"iterations", "50,50,50,50", "N4 maximum iterations per level (default 50,50,50,50)"},
     {"no-n4", nullptr, "leave N4 out of the chain (default: run it)"},
     {"threads", "N", "OpenMP threads (default 0 = all cores)"},
     {"quiet", nullptr, "no progress on stderr"}}),
    "voxinfer preprocess --input stir.nii.gz --out stir_pre.nii.gz --target classifier"};

int cmd_preprocess(int argc, char** argv) {
  Args args(argc, argv, 2, kPreprocessSpec);
  const std::string out = args.need("out");
  preprocess::Plan plan;
  if (args.has("plan")) {
    if (args.has("target")) fail(Status::invalid_argument, "give --target or --plan, not both");
    std::ifstream f(args.get("plan"));
    if (!f) fail(Status::io_error, "cannot read --plan '" + args.get("plan") + "'");
    std::stringstream ss;
    ss << f.rdbuf();
    const auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (j.is_discarded()) fail(Status::invalid_argument, "--plan '" + args.get("plan") + "' is not valid JSON");
    plan = preprocess::plan_from_json(j.is_object() && j.contains("plan") ? j["plan"] : j);
  } else {
    preprocess::N4Options n4;
    n4.shrink_factor = args.get_int("shrink", 1);
    n4.threads = args.get_int("threads", 0);
    if (args.has("iterations")) n4.iterations = args.get_int_list("iterations");
    plan = preprocess::sij_plan(args.need("target"), !args.flag("no-n4"), n4);
  }
  const Volume in = read_input(args.need("input"), read_options(args), "preprocess");
  const auto res = preprocess::run_plan(plan, in);

  const auto slash = out.find_last_of('/');
  pipeline::Staging staging(slash == std::string::npos ? std::string(".") : out.substr(0, slash));
  write_nifti(staging.path(slash == std::string::npos ? out : out.substr(slash + 1)), res.volume);
  staging.commit();
  if (!args.flag("quiet")) {
    double total = 0;
    for (const auto& t : res.timings) {
      std::printf("%-16s %9.1f ms\n", t.op.c_str(), t.ms);
      total += t.ms;
    }
    std::printf("%-16s %9.1f ms\nwrote %s (%lld x %lld x %lld)\n", "total", total, out.c_str(),
                static_cast<long long>(res.volume.nx()), static_cast<long long>(res.volume.ny()),
                static_cast<long long>(res.volume.nz()));
  }
  return 0;
}

}  // namespace vx::cli
