// vx_segment: the C face of lib/nnunet/predictor (what `voxinfer segment` runs).
#include <string>
#include <vector>

#include "capi/guard.h"
#include "capi/options.h"
#include "io/volume_io.h"
#include "model/model.h"
#include "nnunet/predictor.h"
#include "nnunet/write_prediction.h"

namespace {

constexpr size_t kSegmentOptionsVersions[] = {VX_SEGMENT_OPTIONS_SIZE_V1};

vx_segment_options segment_defaults() {
  vx_segment_options o{};
  o.struct_size = sizeof o;
  return o;
}

std::vector<std::string> split_folds(const char* s) {
  std::vector<std::string> out;
  if (!s || std::string(s).empty() || std::string(s) == "all") return out;
  std::string cur;
  for (const char* p = s;; ++p) {
    if (*p == ',' || *p == '\0') {
      if (cur.empty()) vx::fail(vx::Status::invalid_argument, std::string("folds '") + s + "': an empty fold name");
      out.push_back(cur);
      cur.clear();
      if (*p == '\0') break;
    } else {
      cur += *p;
    }
  }
  return out;
}

}  // namespace

VX_API vx_status vx_segment_options_init_sized(vx_segment_options* options, size_t struct_size) {
  return vx::capi::guarded([&] {
    vx::capi::init_options(options, struct_size, segment_defaults(), kSegmentOptionsVersions, "vx_segment_options");
  });
}

VX_API vx_status vx_segment(const char* model_path, const char* const* inputs, size_t num_inputs, const char* out_path,
                            const vx_segment_options* options) {
  return vx::capi::guarded([&] {
    vx::capi::need(model_path, "model_path");
    vx::capi::need(out_path, "out_path");
    if (!inputs || num_inputs == 0) vx::fail(vx::Status::invalid_argument, "vx_segment: no inputs");
    const vx_segment_options o =
        vx::capi::read_options(options, segment_defaults(), kSegmentOptionsVersions, "vx_segment_options");
    const std::string prob = o.probabilities_path ? o.probabilities_path : "";
    vx::nnunet::check_nifti_name(out_path);
    if (!prob.empty()) vx::nnunet::check_nifti_name(prob);
    vx::nnunet::PredictOptions po;
    po.folds = split_folds(o.folds);
    po.mirroring = o.no_mirroring == 0;
    po.tile_step_size = o.tile_step;
    po.fp32_accumulation = o.fp32_accumulation != 0;
    po.probabilities = !prob.empty();
    po.memory_limit_bytes = int64_t(o.memory_limit_bytes);
    if (o.progress)
      po.progress = [&](const std::string& s, int64_t d, int64_t t) { return o.progress(o.progress_user, s.c_str(), d, t) != 0; };
    const auto model = vx::Model::load_file(model_path);
    std::vector<vx::Volume> channels;
    for (size_t i = 0; i < num_inputs; ++i) {
      vx::capi::need(inputs[i], "inputs[i]");
      channels.push_back(vx::read_volume(inputs[i]));
    }
    const auto r = vx::nnunet::predict(*model, channels, po);
    vx::nnunet::write_prediction(r, channels[0], out_path, prob);
  });
}
