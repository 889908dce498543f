// Direct AVX-512 convolution for one input channel (the first layer of every network
// here: 1 -> 32 at 128^3 for the U-Net), writing plain NCDHW directly. oneDNN's fast path
// for this shape wants channels-last output, and the reorder back to NCDHW then costs more
// than the convolution itself; its plain-layout path is im2col + GEMM (PyTorch's slow path).
// The input is zero-padded once (one channel: cheap), so the inner loop has no bounds checks:
// 16 voxels along x, 8 output channels per pass, one load and 8 FMAs per kernel tap.
// Each output is computed by one thread in a fixed order: bit-identical for any thread count.
#include <algorithm>
#include <vector>

#include "cpu/cpu_kernels.h"
#include "cpu/vec_math_avx512.h"

namespace vx::kern::cpu {

using namespace avx512;

namespace {

constexpr int kOcBlock = 8;

}  // namespace

void conv_fused_f32__avx512_ic1(const ConvParams& p, const ConvPostOps& po, const float* src, const float* wei,
                                const float* bias, const float* residual, float* dst) {
  // Padded input extents: every tap of every output lands inside.
  int64_t pe[3];
  for (int i = 0; i < 3; ++i) pe[i] = (p.out[i] - 1) * p.stride[i] + p.k[i];
  pe[2] += 16;  // masked tails never read past the end
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  const int64_t ktaps = p.k[0] * p.k[1] * p.k[2];
  std::vector<float> pad(static_cast<size_t>(pe[0] * pe[1] * pe[2]));
  const int64_t oc_blocks = (p.oc + kOcBlock - 1) / kOcBlock;
  for (int64_t n = 0; n < p.n; ++n) {
    const float* in = src + n * in_sp;
#pragma omp parallel for schedule(static)
    for (int64_t z = 0; z < pe[0]; ++z)
      for (int64_t y = 0; y < pe[1]; ++y) {
        float* row = pad.data() + (z * pe[1] + y) * pe[2];
        const int64_t iz = z - p.pad[0], iy = y - p.pad[1];
        for (int64_t x = 0; x < pe[2]; ++x) {
          const int64_t ix = x - p.pad[2];
          const bool inside = iz >= 0 && iz < p.in[0] && iy >= 0 && iy < p.in[1] && ix >= 0 && ix < p.in[2];
          row[x] = inside ? in[(iz * p.in[1] + iy) * p.in[2] + ix] : 0.f;
        }
      }
    float* out = dst + n * p.oc * out_sp;
    const float* res = residual ? residual + n * p.oc * out_sp : nullptr;
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t ob = 0; ob < oc_blocks; ++ob)
      for (int64_t z = 0; z < p.out[0]; ++z) {
        const int64_t o0 = ob * kOcBlock, no = std::min<int64_t>(kOcBlock, p.oc - o0);
        for (int64_t y = 0; y < p.out[1]; ++y)
          for (int64_t x = 0; x < p.out[2]; x += 16) {
            const __mmask16 m = tail_mask(p.out[2] - x);
            __m512 acc[kOcBlock];
            for (int j = 0; j < kOcBlock; ++j) acc[j] = _mm512_set1_ps(bias && j < no ? bias[o0 + j] : 0.f);
            int64_t tap = 0;
            for (int64_t kz = 0; kz < p.k[0]; ++kz)
              for (int64_t ky = 0; ky < p.k[1]; ++ky) {
                const float* r = pad.data() + ((z * p.stride[0] + kz) * pe[1] + y * p.stride[1] + ky) * pe[2] + x;
                for (int64_t kx = 0; kx < p.k[2]; ++kx, ++tap) {
                  const __m512 v = _mm512_loadu_ps(r + kx);
                  const float* w = wei + o0 * ktaps + tap;
                  if (no == kOcBlock) {
                    for (int j = 0; j < kOcBlock; ++j) acc[j] = _mm512_fmadd_ps(v, _mm512_set1_ps(w[j * ktaps]), acc[j]);
                  } else {
                    for (int j = 0; j < no; ++j) acc[j] = _mm512_fmadd_ps(v, _mm512_set1_ps(w[j * ktaps]), acc[j]);
                  }
                }
              }
            for (int j = 0; j < no; ++j) {
              const int64_t off = (o0 + j) * out_sp + (z * p.out[1] + y) * p.out[2] + x;
              _mm512_mask_storeu_ps(out + off, m, conv_post(acc[j], po, res ? res + off : nullptr, m));
            }
          }
      }
  }
}

void conv_f32__avx512_ic1(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst) {
  conv_fused_f32__avx512_ic1(p, ConvPostOps{}, src, wei, bias, nullptr, dst);
}

}  // namespace vx::kern::cpu
