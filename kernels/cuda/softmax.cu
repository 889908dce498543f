#include "cuda/common.cuh"
#include "cuda/softmax.cuh"

namespace vx::cuda {
namespace {
// One thread per (outer, inner) position; neighbouring threads read neighbouring voxels.
__global__ void softmax_kernel(int64_t outer, int64_t c, int64_t inner, const float* src, float* dst) {
  VX_CUDA_LOOP(t, outer * inner) {
    const int64_t o = t / inner, i = t % inner;
    const float* s = src + o * c * inner + i;
    float* d = dst + o * c * inner + i;
    float m = s[0];
    for (int64_t k = 1; k < c; ++k) m = s[k * inner] > m ? s[k * inner] : m;
    float sum = 0.f;
    for (int64_t k = 0; k < c; ++k) {
      const float e = expf(s[k * inner] - m);
      d[k * inner] = e;
      sum += e;
    }
    for (int64_t k = 0; k < c; ++k) d[k * inner] /= sum;
  }
}
}  // namespace

void softmax_f32__cuda_direct(int64_t outer, int64_t c, int64_t inner, const float* src, float* dst) {
  if (outer * inner <= 0 || c <= 0) return;
  softmax_kernel<<<blocks(outer * inner), kThreads, 0, current()->stream>>>(outer, c, inner, src, dst);
  launched("softmax");
}

}  // namespace vx::cuda
