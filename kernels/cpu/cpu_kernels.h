// The fast CPU backend: oneDNN convolutions, Eigen GEMM and our own AVX-512 kernels.
// Each kernel has the signature of its KernelTable entry and the reference kernel of the
// same entry as its oracle (tests/kernels/cpu_kernels_test.cpp). Kernel names have one
// pattern, <op>_f32__<isa>_<variant>: the op (conv_fused: conv with post-ops), the ISA or
// library (onednn, eigen, avx512, scalar) and how (ic1, pointwise, gemm_d2s, deconv,
// blocked16; u16: vectors of 16 floats). prepare_<kernel> prepares that kernel. Functions
// that choose among kernels are routers, route_<op>_<table>, never named like a kernel.
// AVX-512 kernels live in *_avx512.cpp files compiled with AVX-512 flags and may only be
// called when max_isa() >= Isa::avx512 (the avx512 table checks this).
#pragma once
#include <cstddef>
#include <memory>

#include "cpu/isa.h"
#include "kernel_table.h"

namespace vx::kern::cpu {

// ---- Convolutions. Each is prepared once per problem (KernelTable::prepare_conv): a oneDNN
// primitive with the weights packed into its layout, kept by the weights' owner (WeightPacks,
// NULL: by the prepared object alone). No process-wide cache: the one-shot forms below
// (the tables' plain conv entries) prepare, run and drop everything in the call. src/dst
// may be plain or blocked16 as p says (no reorder when the primitive runs on the caller's
// layout). Shapes oneDNN rejects fall back to the reference kernels.
std::shared_ptr<const PreparedConv> prepare_conv_f32__onednn_primitive(const ConvParams& p, const ConvPostOps& post,
                                                                       const float* wei, const float* bias,
                                                                       WeightPacks* packs);
std::shared_ptr<const PreparedConv> prepare_conv_transpose_f32__onednn_deconv(const ConvParams& p, const float* wei,
                                                                              const float* bias, WeightPacks* packs);
// Transposed convolution as one GEMM + depth-to-space. Requires
// conv_transpose_gemm_d2s_applies(p): p.k == p.stride, p.pad == 0, p.dil == 1, p.groups == 1,
// p.out == p.in * p.k. Honours p's layouts (both blocked16: a blocked GEMM on weights
// rearranged once; mixed: through plain copies).
bool conv_transpose_gemm_d2s_applies(const ConvParams& p);
std::shared_ptr<const PreparedConv> prepare_conv_transpose_f32__onednn_gemm_d2s(const ConvParams& p, const float* wei,
                                                                                const float* bias, WeightPacks* packs);
// A pointwise conv from blocked16 to a plain dst with oc % 16 != 0 (a U-Net's few-class
// head), no residual: one GEMM per 16 input channels (conv_pointwise_gemm.cpp).
bool conv_pointwise_gemm_applies(const ConvParams& p, const ConvPostOps& post);
void conv_fused_f32__onednn_gemm_pointwise(const ConvParams& p, const ConvPostOps& post, const float* src,
                                           const float* wei, const float* bias, const float* residual, float* dst);

// The "cpu" table's convolutions, choosing among the kernels above (conv_route.cpp):
// transposed: GEMM + depth-to-space where it applies, else oneDNN's deconvolution;
// forward: the pointwise GEMM to a plain dst where it applies, else oneDNN.
std::shared_ptr<const PreparedConv> route_conv_cpu(const ConvParams& p, const ConvPostOps& post, bool transpose,
                                                   const float* wei, const float* bias, WeightPacks* packs);
// One-shot forms (prepare, run, drop): what the tables' conv, conv_fused and conv_transpose
// entries do, and what tests call to reach one kernel.
void route_conv_cpu_once(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst);
void route_conv_fused_cpu_once(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                               const float* bias, const float* residual, float* dst);
void route_conv_transpose_cpu_once(const ConvParams& p, const float* src, const float* wei, const float* bias,
                                   float* dst);
void conv_transpose_f32__onednn_deconv(const ConvParams& p, const float* src, const float* wei, const float* bias,
                                       float* dst);
void conv_transpose_f32__onednn_gemm_d2s(const ConvParams& p, const float* src, const float* wei, const float* bias,
                                         float* dst);

// Where src/dst live while oneDNN convolves: `plain` asks oneDNN for a primitive on NCDHW
// directly (oneDNN 2.6 then falls back to im2col + GEMM, "gemm:jit": 5-20x slower);
// `blocked` lets it choose (channels-last for brgconv, nCdhw16c for deconvolution on
// AVX-512) and reorders src/dst at the edges of each call; `automatic` picks per shape
// (plain for pointwise convs and one-channel inputs, blocked otherwise). Measured in
// bench/conv_bench. The choice never depends on timing, so results are reproducible. Read
// when a convolution is prepared.
enum class ConvLayout { plain, blocked, automatic };
void set_conv_layout(ConvLayout layout);  // process-wide; default: automatic
ConvLayout conv_layout();

// Layout conversion of an [n, c, spatial] activation through oneDNN (the table's `reorder`).
void reorder_f32__onednn_blocked16(int64_t n, int64_t c, int64_t spatial, Layout from, Layout to, const float* src,
                                   float* dst);
// Pooling on blocked16 (16 channels per vector, same window order as the reference kernel);
// plain goes to the reference kernel (pool_blocked.cpp).
void route_pool_cpu(const PoolParams& p, const float* src, float* dst);

// ---- GEMM
void linear_f32__eigen_gemm(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias,
                            float* y);

// ---- AVX-512 (one file per op family)
void unary_f32__avx512_u16(Unary op, float alpha, int64_t count, const float* src, float* dst);
void activation_f32__avx512_u16(const ActivationParams& p, int64_t count, const float* src, float* dst);
void binary_f32__avx512_u16(Binary op, const BroadcastParams& p, const float* a, const float* b, float* dst);
void channel_affine_f32__avx512_u16(int64_t n, int64_t c, int64_t inner, const float* scale, const float* shift,
                                    const float* src, float* dst);
void softmax_f32__avx512_u16(int64_t outer, int64_t c, int64_t inner, const float* src, float* dst);
// issue 18 (norms): norm_avx512.cpp
void group_norm_f32__avx512_u16(const NormParams& p, const float* src, const float* scale, const float* bias,
                                float* dst);
void prelu_f32__avx512_u16(int64_t n, int64_t c, int64_t inner, const float* slope, int64_t slope_count,
                           const float* src, float* dst);
// reductions and layer norm (issue 18): reduce_avx512.cpp. Reduce over trailing or middle
// contiguous axes (sum-like ops accumulate in double), other cases through the reference;
// layer norm per row, statistics in double.
void reduce_f32__avx512_u16(const ReduceParams& p, const float* src, float* dst);
void layer_norm_f32__avx512_u16(const LayerNormParams& p, const float* src, const float* scale, const float* bias,
                                float* dst, float* mean, float* inv_std);
void resize_f32__avx512_u16(const ResizeParams& p, const float* src, float* dst);
void adaptive_pool_f32__avx512_u16(const AdaptivePoolParams& p, const float* src, float* dst);

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
void conv_fused_f32__avx512_pointwise(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                                      const float* bias, const float* residual, float* dst);
// The avx512 table's convolutions: the direct kernels where they apply, else the cpu table's.
std::shared_ptr<const PreparedConv> route_conv_avx512(const ConvParams& p, const ConvPostOps& post, bool transpose,
                                                      const float* wei, const float* bias, WeightPacks* packs);
void route_conv_avx512_once(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst);
void route_conv_fused_avx512_once(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                                  const float* bias, const float* residual, float* dst);

// The CPU tables: "cpu" (oneDNN + Eigen, reference elsewhere; any x86-64) and
// "cpu-avx512" (plus our AVX-512 kernels). NULL when max_isa() is below the level.
const KernelTable* cpu_kernels(Isa level);

}  // namespace vx::kern::cpu
