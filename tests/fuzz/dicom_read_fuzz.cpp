// libFuzzer target: vx::read_dicom on one file of arbitrary bytes (through the series listing,
// the CSA header of Siemens files and mosaic unpacking, the slice-grid check and, for odd-sized inputs, the
// resampling of uneven slices) must either return a
// volume or throw vx::Error; never crash, leak or allocate past DicomReadOptions::max_voxels.
// GDCM itself is an uninstrumented system library: ASan still sees the memory it gets from
// malloc and what our code reads from its buffers.
// Build: CC=clang CXX=clang++ cmake -S . -B build-fuzz -DVX_FUZZ=ON && cmake --build build-fuzz --target dicom_read_fuzz
// Run:   build-fuzz/tests/fuzz/dicom_read_fuzz -max_total_time=60 -rss_limit_mb=2048 tests/fuzz/corpus/dicom_read
#include <gdcmTrace.h>

#include <cstdlib>

#include "core/error.h"
#include "fuzz_file.h"
#include "io/dicom.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gdcm::Trace::WarningOff();  // GDCM's stderr chatter on damaged files costs most of the time
  gdcm::Trace::ErrorOff();
  gdcm::Trace::DebugOff();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (size_t(1) << 20)) return 0;
  const std::string path = vx_fuzz::write_file("input.dcm", data, size);
  vx::DicomReadOptions opts;
  opts.max_voxels = size_t(1) << 22;  // 16 MiB of float voxels at most
  opts.resample_uneven_slices = size % 2 == 1;  // both answers to uneven slices, by input
  try {
    vx::Volume v = vx::read_dicom(path, opts);
    if (v.data.numel() <= 0) std::abort();
  } catch (const vx::Error&) {
  }
  return 0;
}
