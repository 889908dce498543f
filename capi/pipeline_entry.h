// The one entry point of the application library (libvoxinfer_pipeline.so): a table of its
// vx_exam_* functions, which libvoxinfer.so's forwarders (capi/exam_forward.cpp) call after
// loading it on first use. The application library exports nothing else, so its copy of the
// engine never interposes on libvoxinfer.so's symbols.
#pragma once
#include <stddef.h>

#include "voxinfer/voxinfer.h"

#define VX_PIPELINE_ENTRY_POINT "vx_pipeline_entry_v1_get"
#define VX_PIPELINE_LIBRARY "libvoxinfer_pipeline.so.0"

typedef struct vx_pipeline_entry_v1 {
  size_t struct_size;  // sizeof(vx_pipeline_entry_v1) of the application library
  decltype(&vx_exam_options_init) exam_options_init;
  decltype(&vx_exam_create) exam_create;
  decltype(&vx_exam_run) exam_run;
  decltype(&vx_exam_free) exam_free;
  decltype(&vx_last_error) last_error;  // the application library's own thread-local message
} vx_pipeline_entry_v1;

extern "C" VX_API const vx_pipeline_entry_v1* vx_pipeline_entry_v1_get(void);
