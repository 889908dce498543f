// vx_exam_* in libvoxinfer.so: forwarders to the application library libvoxinfer_pipeline.so
// (lib/pipeline, capi/exam_capi.cpp; it links OpenCV), loaded on the first call from the folder
// of libvoxinfer.so (see backend/module_loader.h), so a host that never runs an examination
// never loads OpenCV. Errors from there are copied into this library's vx_last_error().
#define VX_CAPI_DEFINES_LEGACY_INIT  // this file defines the exported vx_exam_options_init
#include <dlfcn.h>

#include <mutex>
#include <string>

#include "backend/module_loader.h"
#include "capi/guard.h"
#include "capi/pipeline_entry.h"

namespace {

const vx_pipeline_entry_v1& pipeline() {
  static std::mutex m;
  static const vx_pipeline_entry_v1* entry = nullptr;
  std::lock_guard<std::mutex> lock(m);
  if (entry) return *entry;  // a failure is retried next time (the library may be installed later)
  const std::string why = std::string("vx_exam_* need the application library ") + VX_PIPELINE_LIBRARY + ",";
  void* h = vx::backend::open_module(VX_PIPELINE_LIBRARY, "VOXINFER_PIPELINE_LIBRARY", vx::Status::unsupported,
                                     why + " installed next to libvoxinfer.so; it could not be loaded.");
  auto get = reinterpret_cast<decltype(&vx_pipeline_entry_v1_get)>(dlsym(h, VX_PIPELINE_ENTRY_POINT));
  const vx_pipeline_entry_v1* e = get ? get() : nullptr;
  if (!e || e->struct_size < sizeof(vx_pipeline_entry_v1))
    vx::fail(vx::Status::unsupported, why + " but the one found has no " VX_PIPELINE_ENTRY_POINT
                                            " of this version (libraries from different builds?)");
  entry = e;
  return *entry;
}

// Calls the application library's function; its error message becomes ours.
template <class F>
vx_status forward(F&& call) {
  vx_status s = VX_OK;
  const vx_status loaded = vx::capi::guarded([&] {
    const vx_pipeline_entry_v1& p = pipeline();
    s = call(p);
    if (s != VX_OK) vx::capi::set_last_error(p.last_error());
  });
  return loaded != VX_OK ? loaded : s;
}

}  // namespace

extern "C" {

VX_API vx_status vx_exam_options_init(vx_exam_options* options) {
  return forward([&](const vx_pipeline_entry_v1& p) { return p.exam_options_init(options); });
}

VX_API vx_status vx_exam_options_init_sized(vx_exam_options* options, size_t struct_size) {
  return forward([&](const vx_pipeline_entry_v1& p) { return p.exam_options_init_sized(options, struct_size); });
}

VX_API vx_status vx_exam_create(const char* models_dir, vx_exam** out) {
  return forward([&](const vx_pipeline_entry_v1& p) { return p.exam_create(models_dir, out); });
}

VX_API vx_status vx_exam_run(vx_exam* exam, const char* const* inputs, size_t num_inputs, const char* out_dir,
                             const vx_exam_options* options, const char** report_json) {
  return forward([&](const vx_pipeline_entry_v1& p) {
    return p.exam_run(exam, inputs, num_inputs, out_dir, options, report_json);
  });
}

VX_API vx_status vx_exam_free(vx_exam* exam) {
  if (!exam) return vx::capi::guarded([] {});  // accepts NULL, without loading the library
  return forward([&](const vx_pipeline_entry_v1& p) { return p.exam_free(exam); });
}

}  // extern "C"
