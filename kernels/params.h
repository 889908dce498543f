// Parameters of every kernel, shared by all backends. Spatial ops are 3-D; a 2-D op is
// the 3-D op with depth 1 (extent 1, kernel 1, stride 1, no padding), so one kernel
// serves both. Layout is plain NC[D]HW unless a backend says otherwise.
#pragma once
#include <cstdint>

namespace vx::kern {

// Memory layout of a 4-D or 5-D activation. blocked16 is oneDNN's nChw16c / nCdhw16c:
// [N][C/16][D][H][W][16], channels in blocks of 16 innermost; used only when C % 16 == 0,
// so it takes the bytes of the plain layout. A kernel table with a `reorder` entry honours
// the layouts in ConvParams and PoolParams; every other table only sees plain.
enum class Layout : uint8_t { plain, blocked16 };

struct ConvParams {
  int64_t n = 1, ic = 0, oc = 0, groups = 1;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t k[3] = {1, 1, 1}, stride[3] = {1, 1, 1};
  int64_t pad[3] = {0, 0, 0};  // padding before; padding after only changes the output extent
  int64_t dil[3] = {1, 1, 1};
  Layout src_layout = Layout::plain, dst_layout = Layout::plain;  // a residual has dst's layout
};
// Convolution weights are [oc, ic/groups, kd, kh, kw]; transposed-convolution weights are
// [ic, oc/groups, kd, kh, kw] (PyTorch and ONNX order). `in` is always the op's input.

enum class PoolKind { max, avg };

struct PoolParams {
  int64_t n = 1, c = 0;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t k[3] = {1, 1, 1}, stride[3] = {1, 1, 1}, pad[3] = {0, 0, 0}, dil[3] = {1, 1, 1};
  PoolKind kind = PoolKind::max;
  bool count_include_pad = false;  // average pooling only
  Layout layout = Layout::plain;  // of src and dst
};

// PyTorch's adaptive pooling: window i covers [floor(i*in/out), ceil((i+1)*in/out)).
struct AdaptivePoolParams {
  int64_t n = 1, c = 0;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  PoolKind kind = PoolKind::avg;
};

enum class Unary { identity, relu, leaky_relu, sigmoid, tanh };
enum class Binary { add, sub, mul, div };

// Elementwise activations and math of the field's networks (issue 18), each with up to two
// constants a, b: elu (a = alpha), selu (a = alpha, b = gamma), hard_sigmoid and hard_swish
// (max(0, min(1, a x + b)), times x for hard_swish), softplus, erf, gelu (exact erf form),
// clip (a = min, b = max), exp, log, sqrt, neg, abs, pow (a = the exponent).
enum class Activation { elu, selu, hard_sigmoid, hard_swish, softplus, erf, gelu, clip, exp, log, sqrt, neg, abs, pow };
struct ActivationParams {
  Activation op = Activation::neg;
  float a = 0.f, b = 0.f;
};

// What a fused convolution applies after conv + bias, in this order:
//   dst = act(conv(src) + bias + residual)       (residual only when has_residual)
// act is identity, relu, leaky_relu (alpha), sigmoid or tanh.
struct ConvPostOps {
  Unary act = Unary::identity;
  float alpha = 0.f;
  bool has_residual = false;
};

// Elementwise op over a 5-D output; a stride of 0 broadcasts that axis of an operand.
struct BroadcastParams {
  int64_t out[5] = {1, 1, 1, 1, 1};
  int64_t a_stride[5] = {0, 0, 0, 0, 0};
  int64_t b_stride[5] = {0, 0, 0, 0, 0};
};

// --- normalisation (issue 18: InstanceNormalization, GroupNormalization) ---
// [n, c, spatial] in `layout` (blocked16: [n][c/16][spatial][16]). Each sample's groups of
// `group` consecutive channels are normalised by their own mean and biased variance, then
//   y = act(xhat * scale[c] + bias[c])
// act: identity, relu, leaky_relu (alpha); or, when `slope` is set, PRelu with slope[c]
// (slope_count == c) or slope[0] (slope_count == 1).
struct NormParams {
  int64_t n = 1, c = 0, spatial = 1;
  int64_t group = 1;  // channels per group: 1 for InstanceNorm
  double eps = 1e-5;
  Unary act = Unary::identity;
  float alpha = 0.f;
  const float* slope = nullptr;
  int64_t slope_count = 0;
  Layout layout = Layout::plain;
};

enum class ResizeMode { nearest, linear };

// Source coordinate of output index o along an axis:
//   linear, align_corners:  o * (in-1)/(out-1)         (0 when out == 1)
//   linear, otherwise:      max(0, (o + 0.5) * ratio - 0.5)
//   nearest:                min(floor(o * ratio), in-1)
// `ratio` is in/out when a size was given, 1/scale when a scale factor was given (as PyTorch).
struct ResizeParams {
  int64_t n = 1, c = 0;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  double ratio[3] = {1, 1, 1};
  ResizeMode mode = ResizeMode::nearest;
  bool align_corners = false;
};

enum class PadMode { constant, reflect, edge };

// Pads (begin > 0) or crops (begin < 0) the three spatial axes of an [n*c, D, H, W] tensor.
struct PadParams {
  int64_t nc = 1;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t begin[3] = {0, 0, 0};
  PadMode mode = PadMode::constant;
  float value = 0.f;
};

}  // namespace vx::kern
