// N4 bias-field correction on the sacroiliac pipeline's grid (20 x 224 x 224 at 3.5 x 1 x 1 mm)
// with the published settings (SimpleITK defaults: 4 levels x 50 iterations, no mask, no
// shrinking): ours with shrink 1, 2 and 4, and ITK 5.2's filter when CMake found ITK.
// The volume is the spine T1 from tests/data/mri, trilinearly resampled onto the grid
// (fill 0 outside) and multiplied by a smooth field, so the iteration counts are realistic.
#include <benchmark/benchmark.h>
#include <nifti2_io.h>

#include <cmath>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "preprocess/n4.h"
#ifdef VX_HAVE_ITK
#include "itk_n4_ref.h"
#endif

namespace {

constexpr int64_t kNz = 20, kNy = 224, kNx = 224;

const std::vector<float>& volume() {
  static const std::vector<float> vol = [] {
    std::vector<float> out(static_cast<size_t>(kNz * kNy * kNx), 0.0f);
    // Data from $VX_TEST_DATA_DIR, else tests/data in this source tree.
    std::string data = std::getenv("VX_TEST_DATA_DIR") ? std::getenv("VX_TEST_DATA_DIR") : "";
    if (data.empty()) {
      const std::string here = __FILE__;  // .../bench/n4_bench.cpp
      data = here.substr(0, here.rfind("/bench/")) + "/tests/data";
    }
    const std::string path = data + "/mri/spine-cervical-sct/t1/t1w.nii.gz";
    nifti_image* nim = nifti_image_read(path.c_str(), 1);
    if (!nim || nim->datatype != DT_INT16) {
      std::fprintf(stderr, "n4_bench: cannot read %s as int16, using a synthetic volume\n", path.c_str());
      for (int64_t z = 0; z < kNz; ++z)
        for (int64_t y = 0; y < kNy; ++y)
          for (int64_t x = 0; x < kNx; ++x)
            out[static_cast<size_t>((z * kNy + y) * kNx + x)] = 100.0f + 50.0f * float(((x / 16 + y / 16 + z / 4) % 3));
    } else {
      const int64_t nx = nim->nx, ny = nim->ny, nz = nim->nz;
      const int16_t* s = static_cast<const int16_t*>(nim->data);
      auto at = [&](int64_t z, int64_t y, int64_t x) { return float(s[(z * ny + y) * nx + x]); };
      // Centred grid, 3.5 x 1 x 1 mm output voxels onto the source's own spacing.
      const double sz = 3.5 / nim->dz, sy = 1.0 / nim->dy, sx = 1.0 / nim->dx;
      for (int64_t z = 0; z < kNz; ++z)
        for (int64_t y = 0; y < kNy; ++y)
          for (int64_t x = 0; x < kNx; ++x) {
            const double pz = (z - (kNz - 1) / 2.0) * sz + (nz - 1) / 2.0;
            const double py = (y - (kNy - 1) / 2.0) * sy + (ny - 1) / 2.0;
            const double px = (x - (kNx - 1) / 2.0) * sx + (nx - 1) / 2.0;
            if (pz < 0 || py < 0 || px < 0 || pz > nz - 1 || py > ny - 1 || px > nx - 1) continue;
            const int64_t z0 = std::min<int64_t>(int64_t(pz), nz - 2), y0 = std::min<int64_t>(int64_t(py), ny - 2),
                          x0 = std::min<int64_t>(int64_t(px), nx - 2);
            const double fz = pz - z0, fy = py - y0, fx = px - x0;
            double v = 0;
            for (int a = 0; a < 2; ++a)
              for (int b = 0; b < 2; ++b)
                for (int c = 0; c < 2; ++c)
                  v += (a ? fz : 1 - fz) * (b ? fy : 1 - fy) * (c ? fx : 1 - fx) * at(z0 + a, y0 + b, x0 + c);
            const double l = 0.3 * std::sin(3.0 * x / kNx) + 0.2 * double(y) / kNy - 0.1 * double(z) / kNz;
            out[static_cast<size_t>((z * kNy + y) * kNx + x)] = float(v * std::exp(l));
          }
      nifti_image_free(nim);
    }
    return out;
  }();
  return vol;
}

void BM_n4_voxinfer(benchmark::State& state) {
  const std::vector<float>& v = volume();
  vx::preprocess::N4Options o;  // published: 4 x 50 iterations, 4 control points, no mask
  o.shrink_factor = static_cast<int>(state.range(0));
  o.threads = static_cast<int>(state.range(1));
  int total_iterations = 0;
  for (auto _ : state) {
    vx::preprocess::N4Result r = vx::preprocess::n4_bias_correct(v.data(), {kNz, kNy, kNx}, {3.5, 1, 1}, nullptr, o);
    total_iterations = 0;
    for (int it : r.iterations) total_iterations += it;
    benchmark::DoNotOptimize(r.corrected.data());
  }
  state.counters["iterations"] = total_iterations;
}
// Args: shrink factor, threads (0 = OpenMP default).
BENCHMARK(BM_n4_voxinfer)->ArgsProduct({{1, 2, 4}, {1, 0}})->Unit(benchmark::kMillisecond)->UseRealTime();

#ifdef VX_HAVE_ITK
void BM_n4_itk(benchmark::State& state) {
  const std::vector<float>& v = volume();
  const double spacing[3] = {3.5, 1, 1};
  vx_test::ItkN4Params p;  // published: 4 x 50 iterations
  std::vector<float> out, field;
  for (auto _ : state) {
    vx_test::itk_n4(v.data(), kNz, kNy, kNx, spacing, nullptr, p, out, field);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_n4_itk)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
#endif

}  // namespace

BENCHMARK_MAIN();
