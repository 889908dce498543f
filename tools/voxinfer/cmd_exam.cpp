// `voxinfer exam`: its usage (every option, what it does, an example) is kExamSpec below,
// the table its parser reads.
#include <omp.h>

#include <cstdio>

#include "args.h"
#include "commands.h"
#include "pipeline/exam.h"
#include "pipeline/input_match.h"
#include "progress.h"
#include "read_flags.h"

namespace vx::cli {

void set_threads(const Args& args) {
  const int threads = args.get_int("threads", 0);
  if (threads < 0) fail(Status::invalid_argument, "--threads must be >= 1 (0 = all cores)");
  if (threads > 0) omp_set_num_threads(threads);
}

const CommandSpec kExamSpec{
    "exam", "--input T1 --input STIR --out DIR [options]   or   --study DICOM_DIR --out DIR [options]",
    "The published two-sequence examination: reads both scans, aligns and resizes them, denoises,\n"
    "classifies with the dual encoder, writes one Grad-CAM map per sequence and segments lesions;\n"
    "results and report.json go into DIR atomically. With --study, the two series are chosen from\n"
    "one DICOM folder by the rules the pipeline file declares (inputs[].match: sequence type,\n"
    "orientation, hints, description; weights/FORMAT.md), else the classifier's, else the defaults\n"
    "(T1: description *t1*, no inversion recovery, fat suppression or localiser; STIR: a short-TI\n"
    "inversion recovery); the choice (series UID, number, description, rule) is\n"
    "written in report.json (input_match), and none or several matches is an error listing them.",
    with_read_flags({{"input", "SCAN", "a sequence (NIfTI file or DICOM folder): give exactly two, T1 then STIR"},
     {"study", "DIR", "a DICOM folder holding the examination: its series are matched to the inputs\n"
                      "                        by the model's rules instead of --input"},
     {"out", "DIR", "the output folder, created if needed (required)"},
     {"models", "DIR", "folder of the models: its *.pipeline.json when it has one, else demo_classifier.vxm\n"
                       "                        (+ demo_denoiser.vxm, demo_segmenter.vxm);\n"
                       "                        default: $VOXINFER_MODELS, then the installed or source models"},
     {"pipeline", "FILE", "the pipeline file to run (weights/FORMAT.md: models by SHA-256, inputs, their\n"
                          "                        preprocessing, stages, outputs); checked fully before anything runs"},
     {"threads", "N", "OpenMP threads (default 0 = all cores)"},
     {"no-gradcam", nullptr, "no Grad-CAM maps (default: one per sequence)"},
     {"no-png", nullptr, "no PNG montages (default: written)"},
     {"no-denoise", nullptr, "skip the denoiser (default: run when the model folder has one)"},
     {"dicom-out", nullptr, "also write DICOM for PACS (inputs must be DICOM): lesion_seg.dcm (DICOM-SEG\n"
                            "                        on the STIR series) and <seq>_gradcam_sc/ (RGB secondary captures)"},
     {"quiet", nullptr, "no progress on stderr"},
     {"json", nullptr, "print the report as JSON instead of text"}}),
    "voxinfer exam --input t1.nii.gz --input stir.nii.gz --out exam1/"};

int cmd_exam(int argc, char** argv) {
  Args args(argc, argv, 2, kExamSpec);
  auto inputs = args.all("input");
  if (args.has("study") && !inputs.empty()) fail(Status::invalid_argument, "give either --study DIR or --input twice, not both");
  if (!args.has("study") && inputs.size() != 2)
    fail(Status::invalid_argument, "give the two sequences with --input T1 --input STIR (NIfTI files or DICOM folders), "
                                   "or a DICOM study folder with --study DIR");
  const std::string out = args.need("out");
  set_threads(args);
  if (args.has("pipeline") && args.has("models")) fail(Status::invalid_argument, "give either --pipeline FILE or --models DIR, not both");
  pipeline::Exam exam(args.has("pipeline") ? pipeline::ExamModels::load_pipeline(args.get("pipeline"))
                                           : pipeline::ExamModels::load_dir(args.has("models") ? args.get("models")
                                                                                               : pipeline::default_model_dir(argv[0])));
  nlohmann::json input_match;
  if (args.has("study")) {
    const auto match = pipeline::match_study(args.get("study"), exam.input_rules());
    inputs = match.paths;
    input_match = match.report;
  }

  Progress progress(args.flag("quiet"));
  pipeline::ExamOptions opt;
  opt.gradcam = !args.flag("no-gradcam");
  opt.png = !args.flag("no-png");
  opt.denoise = !args.flag("no-denoise");
  opt.dicom_out = args.flag("dicom-out");
  opt.read = read_options(args);
  opt.input_match = input_match;
  opt.progress = [&](const std::string& stage, int64_t done, int64_t total) { return progress.update(stage, done, total); };
  nlohmann::json r = exam.run(inputs, out, opt);
  progress.finish();
  print_input_warnings(r, "exam");

  if (args.flag("json")) {
    std::printf("%s\n", r.dump(2).c_str());
    return 0;
  }
  const auto& c = r["classification"];
  std::printf("examination   %s + %s\n", inputs[0].c_str(), inputs[1].c_str());
  if (r.contains("pipeline"))
    std::printf("pipeline      %s (sha256 %.12s...)\n", r["pipeline"]["path"].get<std::string>().c_str(),
                r["pipeline"]["sha256"].get<std::string>().c_str());
  if (!input_match.is_null())
    for (const auto& m : input_match["inputs"])
      std::printf("  %-5s = series #%s '%s' (%s)\n", m["sequence"].get<std::string>().c_str(),
                  m["series_number"].get<std::string>().c_str(), m["series_description"].get<std::string>().c_str(),
                  m["orientation"].get<std::string>().c_str());
  std::printf("prediction    %s (p = %.3f)\n", c["predicted_label"].get<std::string>().c_str(),
              c["probabilities"][c["predicted_class"].get<int>()].get<float>());
  for (size_t k = 0; k < c["probabilities"].size(); ++k) {
    const std::string name = k < c["classes"].size() ? c["classes"][k].get<std::string>() : std::to_string(k);
    std::printf("  %-12s %.3f\n", name.c_str(), c["probabilities"][k].get<float>());
  }
  if (r.contains("segmentation")) {
    const auto& s = r["segmentation"];
    std::printf("lesions       %lld component(s), %.2f mL, score %.3f\n", s["lesion_components"].get<long long>(),
                s["lesion_volume_ml"].get<double>(), s["lesion_score"].get<double>());
  }
  std::printf("timings (s)   ");
  for (auto it = r["timings_s"].begin(); it != r["timings_s"].end(); ++it) std::printf("%s %.2f  ", it.key().c_str(), it.value().get<double>());
  std::printf("\noutputs in %s:\n", out.c_str());
  for (const auto& f : r["outputs"]) std::printf("  %s\n", f.get<std::string>().c_str());
  return 0;
}

}  // namespace vx::cli
