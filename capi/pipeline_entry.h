// The one entry point of the application library (libvoxinfer_pipeline.so): a table of its
// vx_exam_* functions, which libvoxinfer.so's forwarders (capi/exam_forward.cpp) call after
// loading it on first use. The application library exports nothing else, so its copy of the
// engine never interposes on libvoxinfer.so's symbols.
#pragma once
#ifndef VX_CAPI_DEFINES_LEGACY_INIT
#error "define VX_CAPI_DEFINES_LEGACY_INIT before the first include (see the struct below)"
#endif
#include <stddef.h>

#include "voxinfer/voxinfer.h"

#define VX_PIPELINE_ENTRY_POINT "vx_pipeline_entry_v1_get"
#define VX_PIPELINE_LIBRARY "libvoxinfer_pipeline.so.0"

// Both sides include this with VX_CAPI_DEFINES_LEGACY_INIT defined first, so that
// vx_exam_options_init is the exported API 100 function, not the header's inline wrapper.
typedef struct vx_pipeline_entry_v1 {
  size_t struct_size;  // sizeof(vx_pipeline_entry_v1) of the application library
  decltype(&vx_exam_options_init) exam_options_init;
  decltype(&vx_exam_options_init_sized) exam_options_init_sized;
  decltype(&vx_exam_create) exam_create;
  decltype(&vx_exam_run) exam_run;
  decltype(&vx_exam_free) exam_free;
  decltype(&vx_last_error) last_error;  // the application library's own thread-local message
} vx_pipeline_entry_v1;

extern "C" VX_API const vx_pipeline_entry_v1* vx_pipeline_entry_v1_get(void);
