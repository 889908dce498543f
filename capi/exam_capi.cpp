// The examination pipeline over the C boundary (see vx_exam_* in voxinfer.h).
// This file defines an exported API 100 initialiser: voxinfer.h declares it only then.
#define VX_CAPI_DEFINES_LEGACY_INIT

#include <omp.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "capi/guard.h"
#include "capi/handles.h"
#include "capi/options.h"
#include "pipeline/exam.h"
#include "pipeline/input_match.h"
#include "voxinfer/voxinfer.h"

struct vx_exam {
  std::unique_ptr<vx::pipeline::Exam> exam;
  std::string report;  // the last run's JSON, returned to the caller
};

using vx::Status;
using vx::capi::HandleKind;

// The published versions of vx_exam_options, oldest first (layouts pinned in voxinfer.h).
static_assert(offsetof(vx_exam_options, struct_size) == 0, "struct_size must come first");
static constexpr size_t kExamOptionsVersions[] = {VX_EXAM_OPTIONS_SIZE_V1, VX_EXAM_OPTIONS_SIZE_V2};

static vx_exam_options exam_defaults() {
  vx_exam_options o{};
  o.struct_size = sizeof o;
  o.gradcam = 1;
  o.png = 1;
  o.denoise = 1;
  return o;
}

extern "C" {

VX_API vx_status vx_exam_options_init_sized(vx_exam_options* options, size_t struct_size) {
  return vx::capi::guarded([&] {
    vx::capi::init_options(options, struct_size, exam_defaults(), kExamOptionsVersions, "vx_exam_options");
  });
}

VX_API vx_status vx_exam_options_init(vx_exam_options* options) {
  return vx_exam_options_init_sized(options, VX_EXAM_OPTIONS_SIZE_V1);
}

VX_API vx_status vx_exam_create(const char* models_dir, vx_exam** out) {
  return vx::capi::guarded([&] {
    vx::capi::need(out, "out");
    *out = nullptr;
    std::string dir;
    if (models_dir) {
      dir = models_dir;
    } else {
      const char* env = std::getenv("VOXINFER_MODELS");
      if (!env) vx::fail(Status::invalid_argument, "models_dir is NULL and VOXINFER_MODELS is not set");
      dir = env;
    }
    auto h = std::make_unique<vx_exam>();
    // A pipeline file names its models itself; a folder runs its one *.pipeline.json, if any.
    h->exam = std::make_unique<vx::pipeline::Exam>(std::filesystem::is_regular_file(dir)
                                                       ? vx::pipeline::ExamModels::load_pipeline(dir)
                                                       : vx::pipeline::ExamModels::load_dir(dir));
    vx::capi::register_handle(h.get(), HandleKind::exam);
    *out = h.release();
  });
}

VX_API vx_status vx_exam_run(vx_exam* exam, const char* const* inputs, size_t num_inputs, const char* out_dir,
                             const vx_exam_options* options, const char** report_json) {
  return vx::capi::guarded([&] {
    vx::capi::need(report_json, "report_json");
    *report_json = nullptr;
    vx::capi::check_handle(exam, HandleKind::exam, "exam");
    vx::capi::need(out_dir, "out_dir");
    if (num_inputs > 0) vx::capi::need(inputs, "inputs");
    const vx_exam_options o = vx::capi::read_options(options, exam_defaults(), kExamOptionsVersions, "vx_exam_options");
    if (o.threads < 0) vx::fail(Status::invalid_argument, "vx_exam_options.threads must be >= 0");
    std::vector<std::string> paths;
    for (size_t i = 0; i < num_inputs; ++i) {
      if (!inputs[i]) vx::fail(Status::invalid_argument, "inputs[" + std::to_string(i) + "] is NULL");
      paths.emplace_back(inputs[i]);
    }
    vx::pipeline::ExamOptions eo;
    eo.gradcam = o.gradcam != 0;
    eo.png = o.png != 0;
    eo.denoise = o.denoise != 0;
    eo.dicom_out = o.dicom_out != 0;
    eo.read.dicom.resample_uneven_slices = o.resample_uneven_slices != 0;
    if (o.replace_non_finite) eo.read.nifti.non_finite = vx::NonFinitePolicy::replace_with_zero;
    if (paths.size() == 1) {  // one study folder: its series are matched by the declared rules
      const auto match = vx::pipeline::match_study(paths[0], exam->exam->input_rules());
      paths = match.paths;
      eo.input_match = match.report;
    }
    if (o.progress)
      eo.progress = [&](const std::string& stage, int64_t done, int64_t total) {
        return o.progress(o.progress_user, stage.c_str(), done, total) != 0;
      };
    const int saved = omp_get_max_threads();
    if (o.threads > 0) omp_set_num_threads(o.threads);
    try {
      exam->report = exam->exam->run(paths, out_dir, eo).dump(2);
    } catch (...) {
      omp_set_num_threads(saved);
      throw;
    }
    omp_set_num_threads(saved);
    *report_json = exam->report.c_str();
  });
}

VX_API vx_status vx_exam_free(vx_exam* exam) {
  return vx::capi::guarded([&] {
    if (!exam) return;
    if (!vx::capi::unregister_handle(exam, HandleKind::exam))
      vx::fail(Status::invalid_argument, "vx_exam_free: not a live vx_exam (freed twice?)");
    delete exam;
  });
}

}  // extern "C"
