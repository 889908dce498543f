// The application library's entry point (see capi/pipeline_entry.h).
#include "capi/pipeline_entry.h"

extern "C" VX_API const vx_pipeline_entry_v1* vx_pipeline_entry_v1_get(void) {
  static const vx_pipeline_entry_v1 entry = {sizeof(vx_pipeline_entry_v1), &vx_exam_options_init, &vx_exam_create,
                                             &vx_exam_run, &vx_exam_free, &vx_last_error};
  return &entry;
}
