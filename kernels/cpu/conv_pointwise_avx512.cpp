// Pointwise (1x1x1, stride 1, no padding) convolution between blocked16 activations, every
// output channel block of a group of four computed from one pass over the input. oneDNN's 1x1
// kernel streams the input once per 16 output channels: at 256 -> 64 channels over 17x64x64
// voxels (71 MB of input) that made the ResNet bottleneck's reduction memory-bound at half the
// FMA peak. Register block: 4 output channel blocks x 6 voxels = 24 accumulators; per input
// channel 4 weight vectors and 6 broadcasts. Each output sums its inputs in channel order in
// one thread, so results do not depend on the thread count.
#include <algorithm>
#include <vector>

#include "cpu/cpu_kernels.h"
#include "cpu/vec_math_avx512.h"

namespace vx::kern::cpu {

using namespace avx512;

namespace {

constexpr int kBlocks = 4;  // output channel blocks of 16 per pass
constexpr int kVoxels = 6;  // voxels per register block
constexpr int kAhead = 4;   // register blocks prefetched ahead

// Weights [oc, ic] as [group][ic][kBlocks * 16], zero where the last group has fewer blocks.
std::vector<float> pack_weights(const ConvParams& p, const float* wei, int64_t groups) {
  std::vector<float> w(static_cast<size_t>(groups * p.ic * kBlocks * 16), 0.f);
  for (int64_t o = 0; o < p.oc; ++o)
    for (int64_t i = 0; i < p.ic; ++i) w[((o / (kBlocks * 16)) * p.ic + i) * kBlocks * 16 + o % (kBlocks * 16)] = wei[o * p.ic + i];
  return w;
}

// nv (<= kVoxels) voxels from v0, nb (<= kBlocks) output blocks of group g, sample n.
template <int NV>
void block(const ConvParams& p, const ConvPostOps& post, const float* src, const float* w, const float* bias,
           const float* residual, float* dst, int64_t n, int64_t g, int64_t v0, int64_t nb, int64_t voxels) {
  const int64_t icb = p.ic / 16, ocb = p.oc / 16;
  __m512 acc[kBlocks][NV];
  for (int b = 0; b < kBlocks; ++b) {
    const int64_t o = (g * kBlocks + b) * 16;
    const __m512 init = bias && b < nb ? _mm512_loadu_ps(bias + o) : _mm512_setzero_ps();
    for (int v = 0; v < NV; ++v) acc[b][v] = init;
  }
  for (int64_t cb = 0; cb < icb; ++cb) {
    const float* s = src + ((n * icb + cb) * voxels + v0) * 16;
    const float* wc = w + cb * 16 * kBlocks * 16;
    // The hardware prefetchers do not follow 16+ streams a few MB apart: fetch a few tiles ahead.
    for (int l = 0; l < NV; ++l) _mm_prefetch(reinterpret_cast<const char*>(s + (kAhead * kVoxels + l) * 16), _MM_HINT_T0);
    for (int i = 0; i < 16; ++i) {
      __m512 wv[kBlocks];
      for (int b = 0; b < kBlocks; ++b) wv[b] = _mm512_loadu_ps(wc + (i * kBlocks + b) * 16);
      for (int v = 0; v < NV; ++v) {
        const __m512 x = _mm512_set1_ps(s[v * 16 + i]);
        for (int b = 0; b < kBlocks; ++b) acc[b][v] = _mm512_fmadd_ps(wv[b], x, acc[b][v]);
      }
    }
  }
  for (int b = 0; b < nb; ++b)
    for (int v = 0; v < NV; ++v) {
      const int64_t off = ((n * ocb + g * kBlocks + b) * voxels + v0 + v) * 16;
      _mm512_storeu_ps(dst + off, conv_post(acc[b][v], post, residual ? residual + off : nullptr, 0xffff));
    }
}

}  // namespace

void conv_fused_f32__avx512_pointwise(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                                      const float* bias, const float* residual, float* dst) {
  const int64_t voxels = p.in[0] * p.in[1] * p.in[2];
  const int64_t groups = (p.oc / 16 + kBlocks - 1) / kBlocks;
  const std::vector<float> w = pack_weights(p, wei, groups);
  const int64_t tiles = (voxels + kVoxels - 1) / kVoxels;
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t t = 0; t < tiles; ++t) {
        const int64_t v0 = t * kVoxels, nb = std::min<int64_t>(kBlocks, p.oc / 16 - g * kBlocks);
        const float* wg = w.data() + g * p.ic * kBlocks * 16;
        if (voxels - v0 >= kVoxels) {
          block<kVoxels>(p, post, src, wg, bias, residual, dst, n, g, v0, nb, voxels);
        } else {
          for (int64_t v = v0; v < voxels; ++v) block<1>(p, post, src, wg, bias, residual, dst, n, g, v, nb, voxels);
        }
      }
}

}  // namespace vx::kern::cpu
