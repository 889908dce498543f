// libFuzzer target: vx::read_nifti on arbitrary bytes must either return a valid volume or
// throw vx::Error; never crash, leak, hang or allocate past NiftiReadOptions::max_bytes.
// Each input is read twice: as given (named .nii; gzip inputs are decoded transparently) and
// gzip-compressed (named .nii.gz), so header mutations also reach the .gz path, where the
// decompressed size is unknown until read. A third read takes the bytes as a two-file pair
// (input.hdr and input.img, both the input), for the 'ni1'/'ni2' and Analyze 7.5 paths.
// Build: CC=clang CXX=clang++ cmake -S . -B build-fuzz -DVX_FUZZ=ON && cmake --build build-fuzz --target nifti_read_fuzz
// Run:   build-fuzz/tests/fuzz/nifti_read_fuzz -max_total_time=60 -rss_limit_mb=2048 tests/fuzz/corpus/nifti_read
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "fuzz_file.h"
#include "io/nifti.h"

namespace {

void read_one(const std::string& path) {
  vx::NiftiReadOptions opts;
  opts.max_bytes = size_t(64) << 20;  // keep the fuzzer's memory bounded
  opts.non_finite = vx::NonFinitePolicy::replace_with_zero;
  try {
    vx::Volume v = vx::read_nifti(path, opts);
    // A volume that comes back must be usable: finite voxels, shape matching the data.
    const int64_t n = v.data.numel();
    const float* p = v.data.f32();
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite(p[i])) std::abort();
  } catch (const vx::Error&) {
  }
}

std::vector<uint8_t> gzip(const uint8_t* data, size_t size) {
  z_stream zs{};
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::vector<uint8_t> out(deflateBound(&zs, size) + 32);
  zs.next_in = const_cast<Bytef*>(data);
  zs.avail_in = static_cast<uInt>(size);
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (size_t(1) << 20)) return 0;
  read_one(vx_fuzz::write_file("input.nii", data, size));
  std::vector<uint8_t> gz = gzip(data, size);
  read_one(vx_fuzz::write_file("input.nii.gz", gz.data(), gz.size()));
  vx_fuzz::write_file("input.img", data, size);
  read_one(vx_fuzz::write_file("input.hdr", data, size));
  return 0;
}
