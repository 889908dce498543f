// The application library's entry point (see capi/pipeline_entry.h).
#define VX_CAPI_DEFINES_LEGACY_INIT  // the exported vx_exam_options_init, not the inline one
#include "capi/pipeline_entry.h"

static vx_pipeline_entry_v1 make_entry() {
  vx_pipeline_entry_v1 e{};
  e.struct_size = sizeof e;
  e.exam_options_init = &vx_exam_options_init;
  e.exam_options_init_sized = &vx_exam_options_init_sized;
  e.exam_create = &vx_exam_create;
  e.exam_run = &vx_exam_run;
  e.exam_free = &vx_exam_free;
  e.last_error = &vx_last_error;
  return e;
}

extern "C" VX_API const vx_pipeline_entry_v1* vx_pipeline_entry_v1_get(void) {
  static const vx_pipeline_entry_v1 entry = make_entry();
  return &entry;
}
