// C entry points for Grad-CAM / Grad-CAM++ on a session (vx::explain::grad_cam with the
// session's kernel table and thread cap). Results are copied into caller arrays only after
// the whole computation succeeded.
// This file defines an exported API 100 initialiser: voxinfer.h declares it only then.
#define VX_CAPI_DEFINES_LEGACY_INIT

#include <cstddef>
#include <cstring>
#include <memory>

#include "capi/guard.h"
#include "capi/handles.h"
#include "capi/options.h"
#include "capi/session_internal.h"
#include "explain/gradcam.h"
#include "kernel_table.h"

// The published versions of vx_gradcam_options, oldest first (layouts pinned in voxinfer.h).
static_assert(offsetof(vx_gradcam_options, struct_size) == 0, "struct_size must come first");
static constexpr size_t kGradcamOptionsVersions[] = {VX_GRADCAM_OPTIONS_SIZE_V1};

using vx::Status;
using vx::capi::HandleKind;

namespace {

vx_gradcam_options gradcam_defaults() {
  vx_gradcam_options o{};
  o.struct_size = sizeof o;
  o.method = VX_CAM_GRADCAM;
  o.layer = nullptr;
  o.target_class = -1;
  o.align_corners = -1;
  return o;
}

vx::explain::CamOptions cam_options(const vx_gradcam_options* in) {
  const vx_gradcam_options o =
      vx::capi::read_options(in, gradcam_defaults(), kGradcamOptionsVersions, "vx_gradcam_options");
  vx::explain::CamOptions c;
  if (o.method == VX_CAM_GRADCAM)
    c.method = vx::explain::CamMethod::gradcam;
  else if (o.method == VX_CAM_GRADCAM_PP)
    c.method = vx::explain::CamMethod::gradcam_pp;
  else
    vx::fail(Status::invalid_argument, "method is " + std::to_string(o.method) +
                                           "; use VX_CAM_GRADCAM (0) or VX_CAM_GRADCAM_PP (1)");
  if (o.layer && *o.layer) c.layers.push_back(o.layer);
  if (o.target_class < -1)
    vx::fail(Status::invalid_argument,
             "target_class is " + std::to_string(o.target_class) + "; use -1 (predicted) or a class index");
  c.target_class = o.target_class;
  if (o.align_corners < -1 || o.align_corners > 1)
    vx::fail(Status::invalid_argument, "align_corners is " + std::to_string(o.align_corners) + "; use -1, 0 or 1");
  c.align_corners = o.align_corners;
  return c;
}

bool cancelled(const vx_session* s, int64_t done) {
  return s->progress && s->progress(s->progress_user, "gradcam", done, 1) != 0;
}

}  // namespace

extern "C" {

VX_API vx_status vx_gradcam_options_init_sized(vx_gradcam_options* options, size_t struct_size) {
  return vx::capi::guarded([&] {
    vx::capi::init_options(options, struct_size, gradcam_defaults(), kGradcamOptionsVersions, "vx_gradcam_options");
  });
}

VX_API vx_status vx_gradcam_options_init(vx_gradcam_options* options) {
  return vx_gradcam_options_init_sized(options, VX_GRADCAM_OPTIONS_SIZE_V1);
}

VX_API vx_status vx_session_gradcam_num_maps(vx_session* session, const vx_gradcam_options* options,
                                             size_t* out) {
  return vx::capi::guarded([&] {
    vx::capi::check_handle(session, HandleKind::session, "session");
    vx::capi::need(out, "out");
    const auto opts = cam_options(options);
    *out = vx::explain::resolve_cam_layers(*session->model, opts).size();
  });
}

VX_API vx_status vx_session_gradcam(vx_session* session, size_t num_inputs, const float* const* inputs,
                                    const int64_t* const* shapes, const int32_t* ranks,
                                    const vx_gradcam_options* options, size_t max_maps, vx_tensor** maps,
                                    size_t* num_maps, int64_t* target_class, float* raw_max) {
  if (maps)
    for (size_t j = 0; j < max_maps; ++j) maps[j] = nullptr;
  if (num_maps) *num_maps = 0;
  return vx::capi::guarded([&] {
    vx::capi::need(maps, "maps");
    vx::capi::need(num_maps, "num_maps");
    vx::capi::check_handle(session, HandleKind::session, "session");
    vx_session* s = session;
    vx::capi::BusyGuard busy(s);
    const vx::explain::CamOptions opts = cam_options(options);
    const size_t needed = vx::explain::resolve_cam_layers(*s->model, opts).size();
    if (needed > max_maps) {
      *num_maps = needed;
      vx::fail(Status::invalid_argument, "Grad-CAM gives " + std::to_string(needed) + " map(s) for this model; room for " +
                                             std::to_string(max_maps) + " given (see vx_session_gradcam_num_maps)");
    }
    const auto in_shapes = vx::capi::input_shapes(s, num_inputs, shapes, ranks);
    vx::capi::need(inputs, "inputs");
    std::vector<vx::Tensor> in;
    for (size_t i = 0; i < in_shapes.size(); ++i) {
      if (!inputs[i]) vx::fail(Status::invalid_argument, "inputs[" + std::to_string(i) + "] is NULL");
      // grad_cam only reads its inputs, so wrapping the caller's const buffer is safe.
      in.push_back(vx::Tensor::wrap(const_cast<float*>(inputs[i]), in_shapes[i]));
    }
    if (cancelled(s, 0)) vx::fail(Status::cancelled, "Grad-CAM cancelled by the progress callback");
    const vx::kern::KernelTable& kernels = s->deterministic ? vx::kern::ref_kernels() : vx::kern::default_kernels();
    vx::explain::CamResult r;
    {
      vx::capi::ThreadCap cap(s->threads);
      r = vx::explain::grad_cam(*s->model, in, opts, kernels);
    }
    if (r.maps.size() > max_maps)
      vx::fail(Status::internal, "Grad-CAM returned more maps than resolve_cam_layers announced");
    if (cancelled(s, 1)) vx::fail(Status::cancelled, "Grad-CAM cancelled by the progress callback");
    const int64_t batch = in_shapes.empty() ? 1 : in_shapes[0][0];
    std::vector<std::unique_ptr<vx_tensor>> handles;
    for (auto& m : r.maps) {
      if (static_cast<int64_t>(m.raw_max.size()) != batch)
        vx::fail(Status::internal, "Grad-CAM returned " + std::to_string(m.raw_max.size()) + " maxima for a batch of " +
                                       std::to_string(batch));
      handles.push_back(std::make_unique<vx_tensor>());
      handles.back()->tensor = m.map.is_contiguous() ? std::move(m.map) : m.map.clone();
    }
    // Everything computed: only now touch the caller's arrays.
    if (target_class)
      for (int64_t n = 0; n < batch; ++n) target_class[n] = r.target_class.at(static_cast<size_t>(n));
    if (raw_max)
      for (size_t j = 0; j < r.maps.size(); ++j)
        for (int64_t n = 0; n < batch; ++n)
          raw_max[j * static_cast<size_t>(batch) + static_cast<size_t>(n)] = r.maps[j].raw_max[static_cast<size_t>(n)];
    for (size_t j = 0; j < handles.size(); ++j) {
      vx::capi::register_handle(handles[j].get(), HandleKind::tensor);
      maps[j] = handles[j].release();
    }
    *num_maps = r.maps.size();
  });
}

}  // extern "C"
