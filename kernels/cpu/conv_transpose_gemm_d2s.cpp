// Transposed convolution with stride == kernel and no padding, dilation or groups (the U-Net
// up-sampling) as one GEMM + depth-to-space scatter. Prepared, the blocked form keeps its
// rearranged weights in the weights' owner (WeightPacks).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/onednn_common.h"

namespace vx::kern::cpu {

using onednn::ScratchUse;
using onednn::thread_scratch;

bool conv_transpose_gemm_d2s_applies(const ConvParams& p) {
  if (p.groups != 1) return false;
  for (int i = 0; i < 3; ++i)
    if (p.k[i] != p.stride[i] || p.pad[i] != 0 || p.dil[i] != 1 || p.out[i] != p.in[i] * p.k[i]) return false;
  return true;
}

// With stride == kernel and no padding, every output voxel receives exactly one
// contribution: dst[o, z*kd+a, y*kh+b, x*kw+c] = bias[o] + sum_i wei[i, o, a, b, c] * src[i, z, y, x].
// That is a GEMM  Y[o*K + k, s] = sum_i wei[i, o*K + k] * src[i, s]  (K = kd*kh*kw, s a
// voxel) followed by a depth-to-space scatter. Work items are fixed blocks of input rows
// (about 512 voxels): each thread runs a single-threaded sgemm on its block into a small
// per-thread Y (it stays in L2) and scatters it at once. A block's arithmetic never depends
// on the thread count, so results are bit-identical across thread counts.
namespace {

// Its work items: blocks of whole input rows (about 512 voxels) of one depth plane of one
// sample, fixed by the shape alone.
struct D2sItems {
  explicit D2sItems(const ConvParams& p)
      : depth(p.in[0]), height(p.in[1]), width(p.in[2]),
        rows(std::max<int64_t>(1, std::min<int64_t>(height, 512 / std::max<int64_t>(1, width)))),
        yblocks((height + rows - 1) / rows), count(p.n * depth * yblocks) {}
  struct Item {
    int64_t n, z, y0, ny, cols;  // sample, depth plane, first row, rows, voxels
  };
  Item operator[](int64_t item) const {
    const int64_t y0 = (item % yblocks) * rows, ny = std::min(rows, height - y0);
    return {item / (depth * yblocks), (item / yblocks) % depth, y0, ny, ny * width};
  }
  const int64_t depth, height, width, rows, yblocks, count;
};

// The blocked twin of the GEMM + depth-to-space below, for src and dst both in blocked16:
// per block of voxels, Yt[v, k*oc + o] = sum_i src[i, v] * Wt[i, k*oc + o], one GEMM per block
// of 16 input channels (K = 16, accumulating), with Wt the weights' columns reordered to
// (k, o) so that the 16 channels of an output block are contiguous in Yt and in dst.
struct D2sWeights : PackedWeights {
  std::vector<float> wt;
};

std::shared_ptr<const D2sWeights> make_wt(const ConvParams& p, const float* wei) {
  const int64_t K = p.k[0] * p.k[1] * p.k[2], ocK = p.oc * K;
  auto w = std::make_shared<D2sWeights>();
  w->wt.resize(static_cast<size_t>(p.ic * ocK));
  for (int64_t i = 0; i < p.ic; ++i)
    for (int64_t o = 0; o < p.oc; ++o)
      for (int64_t k = 0; k < K; ++k) w->wt[i * ocK + k * p.oc + o] = wei[i * ocK + o * K + k];
  return w;
}

void gemm_d2s_blocked(const ConvParams& p, const std::vector<float>& wt, const float* src, const float* bias, float* dst) {
  const int64_t K = p.k[0] * p.k[1] * p.k[2], plane = p.in[1] * p.in[2], S = p.in[0] * plane;
  const int64_t ocK = p.oc * K, out_sp = p.out[0] * p.out[1] * p.out[2], icb = p.ic / 16, ocb = p.oc / 16;
  const D2sItems items(p);
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < items.count; ++item) {
    const auto [n, z, y0, ny, cols] = items[item];
    float* yt = static_cast<float*>(thread_scratch(ScratchUse::gemm, sizeof(float) * static_cast<size_t>(ocK * cols)));
    for (int64_t b = 0; b < icb; ++b)
      dnnl::sgemm('N', 'N', cols, ocK, 16, 1.f, src + ((n * icb + b) * S + z * plane + y0 * p.in[2]) * 16, 16,
                  wt.data() + b * 16 * ocK, ocK, b ? 1.f : 0.f, yt, ocK);
    for (int64_t v = 0; v < cols; ++v) {
      const int64_t yy = y0 + v / p.in[2], x = v % p.in[2];
      for (int64_t a = 0; a < p.k[0]; ++a)
        for (int64_t bb = 0; bb < p.k[1]; ++bb)
          for (int64_t c = 0; c < p.k[2]; ++c) {
            const int64_t k = (a * p.k[1] + bb) * p.k[2] + c;
            const int64_t ov = ((z * p.k[0] + a) * p.out[1] + yy * p.k[1] + bb) * p.out[2] + x * p.k[2] + c;
            for (int64_t ob = 0; ob < ocb; ++ob) {
              float* d = dst + ((n * ocb + ob) * out_sp + ov) * 16;
              const float* r = yt + v * ocK + k * p.oc + ob * 16;
              for (int j = 0; j < 16; ++j) d[j] = r[j] + (bias ? bias[ob * 16 + j] : 0.f);
            }
          }
    }
  }
}

// Both layouts plain: Y = W^T . src per block of voxels, scattered at once.
void gemm_d2s_plain(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst) {
  const int64_t K = p.k[0] * p.k[1] * p.k[2], plane = p.in[1] * p.in[2], S = p.in[0] * plane;
  const int64_t ocK = p.oc * K, out_sp = p.out[0] * p.out[1] * p.out[2];
  const D2sItems items(p);
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < items.count; ++item) {
    const auto [n, z, y0, ny, cols] = items[item];
    float* y = static_cast<float*>(thread_scratch(ScratchUse::gemm, sizeof(float) * static_cast<size_t>(ocK * cols)));
    // Inside a parallel region oneDNN's sgemm runs on the calling thread only.
    dnnl::sgemm('T', 'N', ocK, cols, p.ic, 1.f, wei, ocK, src + n * p.ic * S + z * plane + y0 * p.in[2], S, 0.f, y,
                cols);
    float* out = dst + n * p.oc * out_sp;
    for (int64_t o = 0; o < p.oc; ++o) {
      const float b = bias ? bias[o] : 0.f;
      for (int64_t a = 0; a < p.k[0]; ++a)
        for (int64_t yy = 0; yy < ny; ++yy)
          for (int64_t bb = 0; bb < p.k[1]; ++bb) {
            float* d = out + ((o * p.out[0] + z * p.k[0] + a) * p.out[1] + (y0 + yy) * p.k[1] + bb) * p.out[2];
            for (int64_t c = 0; c < p.k[2]; ++c) {
              const float* r = y + (o * K + (a * p.k[1] + bb) * p.k[2] + c) * cols + yy * p.in[2];
              for (int64_t x = 0; x < p.in[2]; ++x) d[x * p.k[2] + c] = r[x] + b;
            }
          }
    }
  }
}


// Prepared: the blocked form's rearranged weights made once (shared through `packs`); mixed
// layouts go through plain copies.
class PreparedD2s : public PreparedConv {
 public:
  PreparedD2s(const ConvParams& p, const float* wei, const float* bias, WeightPacks* packs)
      : p_(p), wei_(wei), bias_(bias) {
    onednn::engine();  // applies the ISA cap before oneDNN's first use
    if (!blocked()) return;
    if (!packs) {
      wt_ = make_wt(p, wei);
      return;
    }
    std::string key = "gemm_d2s";
    key.append(reinterpret_cast<const char*>(&wei), sizeof wei);
    for (int64_t v : {p.ic, p.oc, p.k[0], p.k[1], p.k[2]}) key.append(reinterpret_cast<const char*>(&v), sizeof v);
    wt_ = std::static_pointer_cast<const D2sWeights>(
        packs->get(key, [&]() -> std::shared_ptr<const PackedWeights> { return make_wt(p, wei); }));
  }

  void run(const float* src, const float*, float* dst) const override {
    const ConvParams& p = p_;
    if (blocked()) return gemm_d2s_blocked(p, wt_->wt, src, bias_, dst);
    if (p.src_layout == Layout::plain && p.dst_layout == Layout::plain) return gemm_d2s_plain(p, src, wei_, bias_, dst);
    const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
    ConvParams q = p;
    q.src_layout = q.dst_layout = Layout::plain;
    std::vector<float> s, d;
    if (p.src_layout == Layout::blocked16) {
      s.resize(static_cast<size_t>(p.n * p.ic * in_sp));
      reorder_f32__onednn_blocked16(p.n, p.ic, in_sp, Layout::blocked16, Layout::plain, src, s.data());
    }
    if (p.dst_layout == Layout::blocked16) d.resize(static_cast<size_t>(p.n * p.oc * out_sp));
    gemm_d2s_plain(q, s.empty() ? src : s.data(), wei_, bias_, d.empty() ? dst : d.data());
    if (!d.empty()) reorder_f32__onednn_blocked16(p.n, p.oc, out_sp, Layout::plain, Layout::blocked16, d.data(), dst);
  }

 private:
  bool blocked() const {
    return p_.src_layout == Layout::blocked16 && p_.dst_layout == Layout::blocked16 && p_.ic % 16 == 0 && p_.oc % 16 == 0;
  }
  ConvParams p_;
  const float *wei_, *bias_;
  std::shared_ptr<const D2sWeights> wt_;
};

}  // namespace

std::shared_ptr<const PreparedConv> prepare_conv_transpose_f32__onednn_gemm_d2s(const ConvParams& p, const float* wei,
                                                                                const float* bias, WeightPacks* packs) {
  return std::make_shared<PreparedD2s>(p, wei, bias, packs);
}

}  // namespace vx::kern::cpu
