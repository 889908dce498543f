// ITK 5.2's N4BiasFieldCorrectionImageFilter behind a plain interface, the independent oracle
// for tests/preprocess/n4_test.cpp and bench/n4_bench.cpp. Built only when CMake finds ITK
// (tests/preprocess/CMakeLists.txt), which then defines VX_HAVE_ITK for its users.
#pragma once
#include <cstdint>
#include <vector>

namespace vx_test {

struct ItkN4Params {
  int histogram_bins = 200;
  double bias_field_fwhm = 0.15;
  double wiener_filter_noise = 0.01;
  double convergence_threshold = 0.001;
  std::vector<int> iterations{50, 50, 50, 50};
  int control_points = 4;
  int threads = 0;  // 0 = ITK's default
};

// src [nz, ny, nx] (x fastest), spacing (z, y, x); mask nullptr or nz*ny*nx bytes (nonzero =
// inside; passed to ITK as label 1). Writes corrected and bias_field (exp of ITK's log field,
// reconstructed from its final lattice) of nz*ny*nx floats.
void itk_n4(const float* src, int64_t nz, int64_t ny, int64_t nx, const double spacing[3], const uint8_t* mask,
            const ItkN4Params& params, std::vector<float>& corrected, std::vector<float>& bias_field);

}  // namespace vx_test
