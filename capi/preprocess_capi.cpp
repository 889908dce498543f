// C entry points for preprocessing: N4 on a volume and the published sacroiliac-joint chain.
// Both build complete volumes first and register the handles last, so a failure leaves
// nothing behind and the caller's outputs are NULL.
#include <cstddef>
#include <memory>
#include <string>

#include "capi/guard.h"
#include "capi/handles.h"
#include "capi/options.h"
#include "preprocess/n4_volume.h"
#include "preprocess/sij_recipe.h"

// The first published layout of vx_n4_options (API 100); it may only grow at the end.
static_assert(offsetof(vx_n4_options, struct_size) == 0, "struct_size must come first");
static_assert(sizeof(void*) != 8 || sizeof(vx_n4_options) == 72, "vx_n4_options layout changed");
static_assert(sizeof(void*) != 8 || offsetof(vx_n4_options, convergence_threshold) == 56,
              "vx_n4_options layout changed");
static constexpr size_t kN4OptionsV1 = sizeof(vx_n4_options);

using vx::Status;
using vx::capi::HandleKind;

namespace {

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

VX_API vx_status vx_n4_options_init(vx_n4_options* options) {
  return vx::capi::guarded([&] {
    vx::capi::need(options, "options");
    const vx::preprocess::N4Options d;
    *options = vx_n4_options{};
    options->struct_size = sizeof(vx_n4_options);
    options->shrink_factor = d.shrink_factor;
    options->iterations_count = static_cast<int32_t>(d.iterations.size());
    for (size_t i = 0; i < d.iterations.size(); ++i) options->iterations[i] = d.iterations[i];
    options->histogram_bins = d.histogram_bins;
    options->convergence_threshold = d.convergence_threshold;
    options->use_otsu_mask = 0;
    options->threads = d.threads;
  });
}

VX_API vx_status vx_volume_n4(const vx_volume* in, const vx_n4_options* options, vx_volume** corrected,
                              vx_volume** bias) {
  return vx::capi::guarded([&] {
    vx::capi::need(corrected, "corrected");
    *corrected = nullptr;
    if (bias) *bias = nullptr;
    vx::capi::check_handle(in, HandleKind::volume, "in");
    vx_n4_options o{};
    vx_n4_options_init(&o);
    vx::capi::read_options(options, kN4OptionsV1, o, "vx_n4_options");
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

}  // extern "C"
