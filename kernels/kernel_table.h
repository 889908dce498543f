// One table of kernel entry points per backend. A backend starts from the reference
// table and overwrites only what it implements, so any gap falls back to the oracle.
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "params.h"
#include "reduce_params.h"
#include "view_params.h"
#include "weight_packs.h"

namespace vx::kern {

// Where a backend's kernels read and write memory that is not host memory (a GPU), the
// ops that would otherwise touch tensor data on the host (Concat, Slice, BatchNorm's folded
// coefficients, Gemm's rearranged weight) go through these instead. NULL in host tables.
struct DeviceMemory {
  void* (*alloc)(size_t bytes);  // NULL on failure (the backend reports why after the node)
  void (*free)(void* ptr);       // NULL is a no-op
  void (*to_device)(void* dst, const void* src, size_t bytes);
  void (*to_host)(void* dst, const void* src, size_t bytes);  // synchronises first
};

// dst[i0..i4] = src[i0..i4] over a 5-D `shape`, each side with its own element strides.
// Serves Concat (strided dst), Slice (strided src) and view copies.
struct CopyParams {
  int64_t shape[5] = {1, 1, 1, 1, 1};
  int64_t src_stride[5] = {0, 0, 0, 0, 0};
  int64_t dst_stride[5] = {0, 0, 0, 0, 0};
};

// A convolution (or transposed convolution) prepared by a table's prepare_conv for repeated
// runs: the problem, post-ops, weights and bias it was made for, and whatever the backend
// derived from them (oneDNN: the primitive and the weights in its layout). Immutable; its
// holder (a session's node state) owns it. run() may be called from one thread at a time
// per holder; the weights and bias it was made with must outlive it.
struct PreparedConv {
  virtual ~PreparedConv() = default;
  // dst = act(conv(src) + bias + residual) as prepared; `residual` is NULL unless the
  // post-ops have one (it may equal dst).
  virtual void run(const float* src, const float* residual, float* dst) const = 0;
};

struct KernelTable {
  const char* name;
  void (*conv)(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst);
  void (*conv_transpose)(const ConvParams& p, const float* src, const float* wei, const float* bias,
                         float* dst);
  // dst[n, c, i] = src[n, c, i] * scale[c] + shift[c]  (inference batch norm)
  void (*channel_affine)(int64_t n, int64_t c, int64_t inner, const float* scale, const float* shift,
                         const float* src, float* dst);
  void (*unary)(Unary op, float alpha, int64_t count, const float* src, float* dst);
  void (*binary)(Binary op, const BroadcastParams& p, const float* a, const float* b, float* dst);
  // Softmax over the middle axis of [outer, c, inner].
  void (*softmax)(int64_t outer, int64_t c, int64_t inner, const float* src, float* dst);
  void (*pool)(const PoolParams& p, const float* src, float* dst);
  void (*adaptive_pool)(const AdaptivePoolParams& p, const float* src, float* dst);
  void (*resize)(const ResizeParams& p, const float* src, float* dst);
  // y[m, n] = x[m, k] . w[n, k] + bias[n]   (bias may be NULL)
  void (*linear)(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias,
                 float* y);
  void (*pad)(const PadParams& p, const float* src, float* dst);
  // Convolution with post-ops in one pass (see ConvPostOps); `residual` has dst's shape, or
  // is NULL when !post.has_residual. NULL entry: run_conv_fused composes conv, binary and
  // unary from this table instead, which is how the reference table stays the oracle.
  void (*conv_fused)(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                     const float* bias, const float* residual, float* dst) = nullptr;
  // Appended; NULL means "host memory, ops use plain loads and stores" (every CPU table).
  void (*copy)(const CopyParams& p, const float* src, float* dst) = nullptr;
  const DeviceMemory* memory = nullptr;
  // Appended. Converts an [n, c, spatial] activation between layouts (c % 16 == 0). Set only
  // by tables whose conv, conv_fused, conv_transpose and pool honour Layout::blocked16.
  void (*reorder)(int64_t n, int64_t c, int64_t spatial, Layout from, Layout to, const float* src,
                  float* dst) = nullptr;
  // Appended. Prepares conv_fused (transpose false) or conv_transpose (transpose true, post
  // must be empty) for repeated runs; packed weights go to `packs` (the weights' owner), or,
  // when it is NULL, into the returned object alone. NULL entry: the table packs nothing and
  // callers use the entries above (as PreparedConvs in lib/ops/conv_prepared.h does).
  std::shared_ptr<const PreparedConv> (*prepare_conv)(const ConvParams& p, const ConvPostOps& post, bool transpose,
                                                      const float* wei, const float* bias, WeightPacks* packs) = nullptr;

  // Appended (issue 18, norms). Instance / group normalisation with a fused activation
  // (NormParams); scale and bias have c values.
  void (*group_norm)(const NormParams& p, const float* src, const float* scale, const float* bias,
                     float* dst) = nullptr;
  // PRelu: dst = src < 0 ? slope * src : src over [n, c, inner], slope per channel
  // (slope_count == c) or one for all (slope_count == 1).
  void (*prelu)(int64_t n, int64_t c, int64_t inner, const float* slope, int64_t slope_count, const float* src,
                float* dst) = nullptr;

  // Appended. Backward kernels (Grad-CAM, lib/explain/backward.cpp): the gradient of each
  // forward op with respect to its DATA input (never its weights), as PyTorch autograd
  // computes it. `dy` is the gradient of the op's output, `dx` (da, db, dxs) that of its
  // input(s), in the forward kernel's layouts (plain); each kernel OVERWRITES its outputs.
  // Max-pooling ties go to the first maximal element in scan order (PyTorch's CPU rule).
  // The reference table sets every one (ref/kernel_table_ref.cpp, from ref/backward_ref.cpp);
  // a fast table inherits them. NULL means "not on this backend" (the CUDA table: its data
  // lives on the device): Grad-CAM refuses such a table with Status::unsupported before it
  // runs anything (explain::require_backward_kernels).
  // dx[m, k] = sum_n dy[m, n] * w[n, k]   (forward: y = x . w^T + b)
  void (*linear_backward)(int64_t m, int64_t k, int64_t n, const float* dy, const float* w, float* dx) = nullptr;
  // dx[n, c, i] = dy[n, c, i] * scale[c]
  void (*channel_affine_backward)(int64_t n, int64_t c, int64_t inner, const float* scale, const float* dy,
                                  float* dx) = nullptr;
  // x: forward input, y: forward output (either may be used, both must be given).
  void (*unary_backward)(Unary op, float alpha, int64_t count, const float* x, const float* y, const float* dy,
                         float* dx) = nullptr;
  // da / db reduce over the axes the operand was broadcast along; either may be NULL.
  void (*binary_backward)(Binary op, const BroadcastParams& p, const float* a, const float* b, const float* dy,
                          float* da, float* db) = nullptr;
  // y: the forward softmax output. dx = y * (dy - sum_c dy * y)
  void (*softmax_backward)(int64_t outer, int64_t c, int64_t inner, const float* y, const float* dy,
                           float* dx) = nullptr;
  void (*pool_backward)(const PoolParams& p, const float* x, const float* dy, float* dx) = nullptr;
  void (*adaptive_pool_backward)(const AdaptivePoolParams& p, const float* x, const float* dy, float* dx) = nullptr;
  void (*resize_backward)(const ResizeParams& p, const float* dy, float* dx) = nullptr;
  void (*pad_backward)(const PadParams& p, const float* dy, float* dx) = nullptr;
  // p describes the FORWARD op (p.in = its input); dx has p.in's extents.
  void (*conv_backward)(const ConvParams& p, const float* dy, const float* wei, float* dx) = nullptr;
  void (*conv_transpose_backward)(const ConvParams& p, const float* dy, const float* wei, float* dx) = nullptr;
  // Concat along one axis of [outer, sum(sizes), inner]: dxs[i] = the i-th block of dy.
  void (*concat_backward)(int64_t outer, int64_t inner, int count, const int64_t* sizes, const float* dy,
                          float** dxs) = nullptr;
  // Slice of [outer, in_len, inner] along the middle axis (elements start, start+step, ...;
  // out_len of them; step may be negative): dx is zero except at the taken positions.
  void (*slice_backward)(int64_t outer, int64_t in_len, int64_t inner, int64_t start, int64_t step,
                         int64_t out_len, const float* dy, float* dx) = nullptr;
  // Pass-through ops (identity, dropout at inference, flatten, reshape, squeeze): dx = dy.
  void (*copy_backward)(int64_t count, const float* dy, float* dx) = nullptr;

  // Appended (issue 18): elementwise activations and math (params.h Activation), forward and
  // backward (x: forward input, y: forward output, both given).
  void (*activation)(const ActivationParams& p, int64_t count, const float* src, float* dst) = nullptr;
  void (*activation_backward)(const ActivationParams& p, int64_t count, const float* x, const float* y,
                              const float* dy, float* dx) = nullptr;
  // (issue 18, norms) x: forward input (plain); the activation in p is differentiated too.
  void (*group_norm_backward)(const NormParams& p, const float* x, const float* scale, const float* bias,
                              const float* dy, float* dx) = nullptr;
  // x: forward input.
  void (*prelu_backward)(int64_t n, int64_t c, int64_t inner, const float* slope, int64_t slope_count,
                         const float* x, const float* dy, float* dx) = nullptr;

  // reductions and layer norm (issue 18). Reduce* over any axes (ReduceParams). Backward:
  // x and y are the forward input and output, dy has y's shape; max / min send each output's
  // gradient to its maximal (minimal) inputs, split equally among ties (torch.amax's rule).
  void (*reduce)(const ReduceParams& p, const float* src, float* dst) = nullptr;
  void (*reduce_backward)(const ReduceParams& p, const float* x, const float* y, const float* dy,
                          float* dx) = nullptr;
  // LayerNormalization (LayerNormParams); `mean` and `inv_std` receive `outer` values each
  // when not NULL (the op's optional outputs 1 and 2).
  void (*layer_norm)(const LayerNormParams& p, const float* src, const float* scale, const float* bias, float* dst,
                     float* mean, float* inv_std) = nullptr;
  // x: forward input; scale as in layer_norm (NULL: 1).
  void (*layer_norm_backward)(const LayerNormParams& p, const float* x, const float* scale, const float* dy,
                              float* dx) = nullptr;
  // LogSoftmax over the middle axis of [outer, c, inner]; backward from the forward output y:
  // dx = dy - exp(y) * sum_c dy.
  void (*log_softmax)(int64_t outer, int64_t c, int64_t inner, const float* src, float* dst) = nullptr;
  void (*log_softmax_backward)(int64_t outer, int64_t c, int64_t inner, const float* y, const float* dy,
                               float* dx) = nullptr;
  // view ops (issue 18): Transpose, Expand, Tile, Split, Where (kernels/view_params.h).
  void (*view_copy)(const ViewCopyParams& p, const float* src, float* dst) = nullptr;
  // The adjoint of view_copy: dx (src_count elements) is zeroed, then each dy element is
  // added at the source index it was read from (sums broadcast / tiled copies).
  void (*view_copy_backward)(const ViewCopyParams& p, int64_t src_count, const float* dy, float* dx) = nullptr;
  void (*select)(const SelectParams& p, const float* mask, const float* a, const float* b, float* dst) = nullptr;
  // da (a_count elements) / db (b_count) are overwritten with dy where mask is set / clear,
  // summed over broadcast axes; either may be NULL.
  void (*select_backward)(const SelectParams& p, const float* mask, const float* dy, int64_t a_count, float* da,
                          int64_t b_count, float* db) = nullptr;
};

// Fused convolution through table `t`: its conv_fused entry when set, else conv, then an
// elementwise add of the residual, then the activation, all with t's own kernels.
void run_conv_fused(const KernelTable& t, const ConvParams& p, const ConvPostOps& post, const float* src,
                    const float* wei, const float* bias, const float* residual, float* dst);

// A kernel with conv_fused's signature bound to its problem, post-ops, weights and bias:
// the PreparedConv of a kernel that packs nothing (direct kernels, GEMM paths).
using ConvFusedFn = void (*)(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                             const float* bias, const float* residual, float* dst);
std::shared_ptr<const PreparedConv> bind_conv(ConvFusedFn fn, const ConvParams& p, const ConvPostOps& post,
                                              const float* wei, const float* bias);

// The scalar reference kernels: the oracle every faster kernel is tested against.
const KernelTable& ref_kernels();

// Every table this build and machine can run, reference first, fastest last. Tests loop
// over it; sessions use the last one unless told otherwise. (kernels/kernel_tables.cpp)
std::vector<const KernelTable*> kernel_tables();
const KernelTable& default_kernels();

}  // namespace vx::kern
