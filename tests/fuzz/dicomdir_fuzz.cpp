// libFuzzer target: the DICOMDIR parser (lib/io/dicomdir.cpp) on arbitrary bytes must return
// records or throw vx::Error; never crash, loop, read out of bounds or allocate past its bounds
// (kMaxDicomdirRecords records, 1 KiB strings, 16 file-ID components). Every record must come
// after its parent, and every file ID it gives is resolved under an empty private folder
// (the '..'/absolute refusal and the case-insensitive lookup), which must find nothing.
// Seeds: pydicom's DICOMDIR test files (tests/fuzz/make_dicomdir_seeds.py).
// Build: CC=clang CXX=clang++ cmake -S . -B build-fuzz -DVX_FUZZ=ON && cmake --build build-fuzz --target dicomdir_fuzz
// Run:   build-fuzz/tests/fuzz/dicomdir_fuzz -max_total_time=60 -rss_limit_mb=2048 tests/fuzz/corpus/dicomdir
#include <cstdlib>

#include "core/error.h"
#include "fuzz_file.h"
#include "io/dicomdir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (size_t(1) << 20)) return 0;
  vx::Dicomdir dd;
  try {
    dd = vx::parse_dicomdir(data, size, "fuzz");
  } catch (const vx::Error&) {
    return 0;
  }
  if (dd.records.size() > vx::kMaxDicomdirRecords) std::abort();
  size_t resolved = 0;
  for (size_t i = 0; i < dd.records.size(); ++i) {
    const vx::DicomdirRecord& r = dd.records[i];
    if (r.parent >= int(i) || r.parent < -1) std::abort();  // a parent comes first
    if (r.file_id.empty() || ++resolved > 64) continue;
    try {
      if (!vx::resolve_file_id(vx_fuzz::temp_dir(), r.file_id).empty()) std::abort();  // the folder is empty
    } catch (const vx::Error&) {
    }
  }
  return 0;
}
