// The fast CPU backend: oneDNN convolutions, Eigen GEMM and our own AVX-512 kernels.
// Each kernel has the signature of its KernelTable entry and the reference kernel of the
// same entry as its oracle (tests/kernels/cpu_kernels_test.cpp). Names say what they are:
// <op>_f32__<how>. AVX-512 kernels live in *_avx512.cpp files compiled with AVX-512 flags
// and may only be called when max_isa() >= Isa::avx512 (the avx512 table checks this).
#pragma once
#include <cstddef>

#include "cpu/isa.h"
#include "kernel_table.h"

namespace vx::kern::cpu {

// ---- oneDNN convolutions (onednn_conv.cpp). Primitives and reordered weights are cached
// process-wide, keyed by the full ConvParams (layouts included), the post-ops, the thread
// count, the weight and bias pointers and, for weights outside a registered model file, a
// checksum of their first and last values; thread-safe. src/dst may be plain or blocked16 as
// p says (no reorder when the primitive runs on the caller's layout). Shapes oneDNN rejects
// fall back to the reference kernels.
void conv_f32__onednn(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst);
void conv_fused_f32__onednn(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                            const float* bias, const float* residual, float* dst);
// Transposed convolution: stride == kernel without padding, dilation or groups (the U-Net
// up-sampling) runs as one GEMM + depth-to-space (conv_transpose_f32__gemm_d2s); everything
// else through oneDNN's deconvolution.
void conv_transpose_f32__onednn(const ConvParams& p, const float* src, const float* wei, const float* bias,
                                float* dst);
void conv_transpose_f32__onednn_deconv(const ConvParams& p, const float* src, const float* wei, const float* bias,
                                       float* dst);
// Requires p.k == p.stride, p.pad == 0, p.dil == 1, p.groups == 1, p.out == p.in * p.k.
// Honours p's layouts (both blocked16: a blocked GEMM; mixed: through plain copies).
void conv_transpose_f32__gemm_d2s(const ConvParams& p, const float* src, const float* wei, const float* bias,
                                  float* dst);

// Where src/dst live while oneDNN convolves: `plain` asks oneDNN for a primitive on NCDHW
// directly (oneDNN 2.6 then falls back to im2col + GEMM, "gemm:jit": 5-20x slower);
// `blocked` lets it choose (channels-last for brgconv, nCdhw16c for deconvolution on
// AVX-512) and reorders src/dst at the edges of each call; `automatic` picks per shape
// (plain for pointwise convs and one-channel inputs, blocked otherwise). Measured in
// bench/conv_bench. The choice never depends on timing, so results are reproducible.
enum class ConvLayout { plain, blocked, automatic };
void set_conv_layout(ConvLayout layout);  // process-wide; default: automatic
ConvLayout conv_layout();
// A read-only mapping of a model file whose weights the cache may reorder: once a weight has
// its reordered copy, its pages in the mapping are given back to the OS (clean file pages;
// reading the plain weight again faults the same bytes back in), so the weights are resident
// once, not twice. Unregister before unmapping.
void register_file_weights(const void* begin, size_t bytes);
void unregister_file_weights(const void* begin);
// Drops every cached primitive and reordered weight. Call it after changing weights in place
// at the same address (the checksum samples only some values).
void clear_conv_cache();
size_t conv_cache_size();

// Layout conversion of an [n, c, spatial] activation through oneDNN (the table's `reorder`).
void reorder_f32__onednn(int64_t n, int64_t c, int64_t spatial, Layout from, Layout to, const float* src,
                         float* dst);
// Pooling on blocked16 (16 channels per vector, same window order as the reference kernel);
// plain goes to the reference kernel (pool_blocked.cpp).
void pool_f32__cpu(const PoolParams& p, const float* src, float* dst);

// ---- GEMM
void linear_f32__eigen(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias,
                       float* y);

// ---- AVX-512 (one file per op family)
void unary_f32__avx512(Unary op, float alpha, int64_t count, const float* src, float* dst);
void binary_f32__avx512(Binary op, const BroadcastParams& p, const float* a, const float* b, float* dst);
void channel_affine_f32__avx512(int64_t n, int64_t c, int64_t inner, const float* scale, const float* shift,
                                const float* src, float* dst);
void softmax_f32__avx512(int64_t outer, int64_t c, int64_t inner, const float* src, float* dst);
void resize_f32__avx512(const ResizeParams& p, const float* src, float* dst);
void adaptive_pool_f32__avx512(const AdaptivePoolParams& p, const float* src, float* dst);

// Direct convolution for one input channel, plain NCDHW out (conv_ic1_avx512.cpp).
// Applies when conv_ic1_applies(p): ic == 1, no groups, x stride 1, no dilation, at most
// 125 taps, at least 16 outputs along x. (conv_ic1_applies is plain C++, callable anywhere.)
bool conv_ic1_applies(const ConvParams& p);
void conv_f32__avx512_ic1(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst);
void conv_fused_f32__avx512_ic1(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                                const float* bias, const float* residual, float* dst);
// Pointwise convolution between blocked16 activations, all output channel blocks of a group
// of four from one pass over the input (conv_pointwise_avx512.cpp). Applies when
// conv_pointwise_applies(p): 1x1x1 kernel, stride 1, no padding, no groups, blocked16 in and
// out, at least 8 MiB of input (smaller inputs stay in cache and go to oneDNN).
bool conv_pointwise_applies(const ConvParams& p);
void conv_pointwise_f32__avx512(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                                const float* bias, const float* residual, float* dst);
// The avx512 table's conv entries: the direct kernels where they apply, else oneDNN.
void conv_f32__avx512(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst);
void conv_fused_f32__avx512(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                            const float* bias, const float* residual, float* dst);

// The CPU tables: "cpu" (oneDNN + Eigen, reference elsewhere; any x86-64) and
// "cpu-avx512" (plus our AVX-512 kernels). NULL when max_isa() is below the level.
const KernelTable* cpu_kernels(Isa level);

}  // namespace vx::kern::cpu
