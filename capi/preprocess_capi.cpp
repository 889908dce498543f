// C entry points for preprocessing: N4 on a volume, a declared plan, and the published
// sacroiliac-joint chain (a fixed plan).
// Both build complete volumes first and register the handles last, so a failure leaves
// nothing behind and the caller's outputs are NULL.
// This file defines an exported API 100 initialiser: voxinfer.h declares it only then.
#define VX_CAPI_DEFINES_LEGACY_INIT

#include <cstddef>
#include <memory>
#include <string>

#include "capi/guard.h"
#include "capi/handles.h"
#include "capi/options.h"
#include "preprocess/n4_volume.h"
#include "preprocess/sij_recipe.h"

#include <nlohmann/json.hpp>

// The published versions of vx_n4_options, oldest first (layouts pinned in voxinfer.h).
static_assert(offsetof(vx_n4_options, struct_size) == 0, "struct_size must come first");
static constexpr size_t kN4OptionsVersions[] = {VX_N4_OPTIONS_SIZE_V1};

using vx::Status;
using vx::capi::HandleKind;

namespace {

// SimpleITK's defaults (those of vx::preprocess::N4Options).
vx_n4_options n4_defaults() {
  const vx::preprocess::N4Options d;
  vx_n4_options o{};
  o.struct_size = sizeof o;
  o.shrink_factor = d.shrink_factor;
  o.iterations_count = static_cast<int32_t>(d.iterations.size());
  for (size_t i = 0; i < d.iterations.size(); ++i) o.iterations[i] = d.iterations[i];
  o.histogram_bins = d.histogram_bins;
  o.convergence_threshold = d.convergence_threshold;
  o.use_otsu_mask = 0;
  o.threads = d.threads;
  return o;
}

vx_volume* make_volume_handle(vx::Volume&& vol) {
  vx::validate_volume(vol);
  auto h = std::make_unique<vx_volume>();
  h->volume = std::move(vol);
  vx::capi::register_handle(h.get(), HandleKind::volume);
  return h.release();
}

vx::preprocess::N4Options n4_options_of(const vx_n4_options& o) {
  if (o.iterations_count < 1 || o.iterations_count > VX_N4_MAX_LEVELS)
    vx::fail(Status::invalid_argument, "vx_n4_options.iterations_count is " + std::to_string(o.iterations_count) +
                                           "; expected 1.." + std::to_string(VX_N4_MAX_LEVELS));
  vx::preprocess::N4Options n;
  n.shrink_factor = o.shrink_factor;
  n.iterations.assign(o.iterations, o.iterations + o.iterations_count);
  n.histogram_bins = o.histogram_bins;
  n.convergence_threshold = o.convergence_threshold;
  n.threads = o.threads;
  return n;  // ranges are checked by n4_bias_correct, which names the field
}

}  // namespace

extern "C" {

VX_API vx_status vx_n4_options_init_sized(vx_n4_options* options, size_t struct_size) {
  return vx::capi::guarded([&] {
    vx::capi::init_options(options, struct_size, n4_defaults(), kN4OptionsVersions, "vx_n4_options");
  });
}

VX_API vx_status vx_n4_options_init(vx_n4_options* options) {
  return vx_n4_options_init_sized(options, VX_N4_OPTIONS_SIZE_V1);
}

VX_API vx_status vx_volume_n4(const vx_volume* in, const vx_n4_options* options, vx_volume** corrected,
                              vx_volume** bias) {
  return vx::capi::guarded([&] {
    vx::capi::need(corrected, "corrected");
    *corrected = nullptr;
    if (bias) *bias = nullptr;
    vx::capi::check_handle(in, HandleKind::volume, "in");
    const vx_n4_options o = vx::capi::read_options(options, n4_defaults(), kN4OptionsVersions, "vx_n4_options");
    auto r = vx::preprocess::n4_volume(in->volume, n4_options_of(o), o.use_otsu_mask != 0);
    // Register the field first and undo it if the second registration throws.
    vx_volume* field = bias ? make_volume_handle(std::move(r.bias)) : nullptr;
    try {
      *corrected = make_volume_handle(std::move(r.corrected));
    } catch (...) {
      if (field) {
        vx::capi::unregister_handle(field, HandleKind::volume);
        delete field;
      }
      throw;
    }
    if (bias) *bias = field;
  });
}

VX_API vx_status vx_volume_preprocess_sij(const vx_volume* in, const char* target, int run_n4, vx_volume** out) {
  return vx::capi::guarded([&] {
    vx::capi::need(out, "out");
    *out = nullptr;
    vx::capi::check_handle(in, HandleKind::volume, "in");
    vx::capi::need(target, "target");
    const auto plan = vx::preprocess::sij_plan(target, run_n4 != 0);
    *out = make_volume_handle(std::move(vx::preprocess::run_plan(plan, in->volume).volume));
  });
}

VX_API vx_status vx_volume_preprocess(const vx_volume* in, const char* plan_json, vx_volume** out) {
  return vx::capi::guarded([&] {
    vx::capi::need(out, "out");
    *out = nullptr;
    vx::capi::check_handle(in, HandleKind::volume, "in");
    vx::capi::need(plan_json, "plan_json");
    const auto doc = nlohmann::json::parse(plan_json, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) vx::fail(Status::invalid_argument, "plan_json is not valid JSON");
    // A plan, or an object holding one: a model's "preprocessing" block or a report.
    const auto& steps = doc.is_object() && doc.contains("plan") ? doc["plan"] : doc;
    const auto plan = vx::preprocess::plan_from_json(steps);
    *out = make_volume_handle(std::move(vx::preprocess::run_plan(plan, in->volume).volume));
  });
}

}  // extern "C"
