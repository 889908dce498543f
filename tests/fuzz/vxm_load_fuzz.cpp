// libFuzzer target: Model::load_memory on arbitrary bytes must either load or throw vx::Error.
// Build: CC=clang CXX=clang++ cmake -S . -B build-fuzz -DVX_FUZZ=ON && cmake --build build-fuzz --target vxm_load_fuzz
// Run:   build-fuzz/tests/fuzz/vxm_load_fuzz -max_total_time=60 -rss_limit_mb=1024 tests/fuzz/corpus/vxm_load
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "model/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vx::LoadOptions opts;
  opts.max_tensor_bytes = size_t(64) << 20;  // keep the fuzzer's memory bounded
  try {
    vx::Model::load_memory(data, size, opts);
  } catch (const vx::Error&) {
  }
  return 0;
}
