#include <climits>
#include <cstring>
#include <string>

#include "cuda/common.cuh"
#include "cuda/conv.cuh"
#include "cuda/elementwise.cuh"

namespace vx::cuda {

struct ConvPlan {
  bool direct = false;  // cuDNN cannot express this shape: use the direct kernel
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;  // conv: src, dst; transposed: dst (dx), src (dy)
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnConvolutionFwdAlgo_t fwd{};
  cudnnConvolutionBwdDataAlgo_t bwd{};
  size_t workspace = 0;
};

struct ConvPlanCache {
  std::map<std::string, ConvPlan> plans;
};

namespace {

// ---- direct kernels: one thread per output voxel, the reference's loops --------------------
__global__ void conv_f32__cuda_direct(kern::ConvParams p, int64_t count, const float* src, const float* wei, const float* bias,
                            float* dst) {
  const int64_t icg = p.ic / p.groups, ocg = p.oc / p.groups;
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  const int64_t k_sp = p.k[0] * p.k[1] * p.k[2];
  VX_CUDA_LOOP(t, count) {
    const int64_t r = t % out_sp, o = (t / out_sp) % p.oc, n = t / (out_sp * p.oc), g = o / ocg;
    const int64_t x = r % p.out[2], y = (r / p.out[2]) % p.out[1], z = r / (p.out[2] * p.out[1]);
    float acc = bias ? bias[o] : 0.f;
    for (int64_t c = 0; c < icg; ++c) {
      const float* in = src + (n * p.ic + g * icg + c) * in_sp;
      const float* w = wei + (o * icg + c) * k_sp;
      for (int64_t kz = 0; kz < p.k[0]; ++kz) {
        const int64_t iz = z * p.stride[0] - p.pad[0] + kz * p.dil[0];
        if (iz < 0 || iz >= p.in[0]) continue;
        for (int64_t ky = 0; ky < p.k[1]; ++ky) {
          const int64_t iy = y * p.stride[1] - p.pad[1] + ky * p.dil[1];
          if (iy < 0 || iy >= p.in[1]) continue;
          for (int64_t kx = 0; kx < p.k[2]; ++kx) {
            const int64_t ix = x * p.stride[2] - p.pad[2] + kx * p.dil[2];
            if (ix < 0 || ix >= p.in[2]) continue;
            acc += in[(iz * p.in[1] + iy) * p.in[2] + ix] * w[(kz * p.k[1] + ky) * p.k[2] + kx];
          }
        }
      }
    }
    dst[t] = acc;
  }
}

// Gather form of the reference's scatter: output o receives input z where o = z*s - p + k*d.
__device__ bool source(int64_t o, int64_t k, const kern::ConvParams& p, int axis, int64_t* i) {
  const int64_t v = o + p.pad[axis] - k * p.dil[axis];
  if (v < 0 || v % p.stride[axis]) return false;
  *i = v / p.stride[axis];
  return *i < p.in[axis];
}

__global__ void conv_transpose_f32__cuda_direct(kern::ConvParams p, int64_t count, const float* src, const float* wei,
                                      const float* bias, float* dst) {
  const int64_t icg = p.ic / p.groups, ocg = p.oc / p.groups;
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  const int64_t k_sp = p.k[0] * p.k[1] * p.k[2];
  VX_CUDA_LOOP(t, count) {
    const int64_t r = t % out_sp, o = (t / out_sp) % p.oc, n = t / (out_sp * p.oc), g = o / ocg;
    const int64_t x = r % p.out[2], y = (r / p.out[2]) % p.out[1], z = r / (p.out[2] * p.out[1]);
    float acc = bias ? bias[o] : 0.f;
    for (int64_t c = 0; c < icg; ++c) {
      const int64_t ci = g * icg + c;
      const float* in = src + (n * p.ic + ci) * in_sp;
      const float* w = wei + (ci * ocg + (o - g * ocg)) * k_sp;
      for (int64_t kz = 0; kz < p.k[0]; ++kz) {
        int64_t iz;
        if (!source(z, kz, p, 0, &iz)) continue;
        for (int64_t ky = 0; ky < p.k[1]; ++ky) {
          int64_t iy;
          if (!source(y, ky, p, 1, &iy)) continue;
          for (int64_t kx = 0; kx < p.k[2]; ++kx) {
            int64_t ix;
            if (!source(x, kx, p, 2, &ix)) continue;
            acc += in[(iz * p.in[1] + iy) * p.in[2] + ix] * w[(kz * p.k[1] + ky) * p.k[2] + kx];
          }
        }
      }
    }
    dst[t] = acc;
  }
}

// ---- cuDNN plans --------------------------------------------------------------------------
bool fits_int(const kern::ConvParams& p) {
  const int64_t v[] = {p.n, p.ic, p.oc, p.in[0] * p.in[1] * p.in[2] * p.ic, p.out[0] * p.out[1] * p.out[2] * p.oc};
  for (int64_t x : v)
    if (x > INT_MAX) return false;
  return true;
}

void set_tensor(cudnnTensorDescriptor_t d, int64_t n, int64_t c, const int64_t sp[3]) {
  const int dims[5] = {int(n), int(c), int(sp[0]), int(sp[1]), int(sp[2])};
  const int strides[5] = {int(c * sp[0] * sp[1] * sp[2]), int(sp[0] * sp[1] * sp[2]), int(sp[1] * sp[2]), int(sp[2]), 1};
  ok(cudnnSetTensorNdDescriptor(d, CUDNN_DATA_FLOAT, 5, dims, strides), "conv tensor descriptor");
}

// Symmetric padding = `pad`; the reference's output extent must be what cuDNN derives.
ConvPlan make_plan(const kern::ConvParams& p, bool transposed) {
  vx_cuda_context* ctx = current();
  ConvPlan plan;
  if (!fits_int(p)) {
    plan.direct = true;
    return plan;
  }
  cudnnCreateTensorDescriptor(&plan.x);
  cudnnCreateTensorDescriptor(&plan.y);
  cudnnCreateFilterDescriptor(&plan.w);
  cudnnCreateConvolutionDescriptor(&plan.conv);
  // Forward view: conv maps x(ic, in) -> y(oc, out); transposed is backward-data of the
  // conv that maps dst(oc, out) -> src(ic, in) with filter [ic, oc/g, k] (PyTorch layout).
  const int64_t xc = transposed ? p.oc : p.ic, yc = transposed ? p.ic : p.oc;
  const int64_t* xs = transposed ? p.out : p.in;
  const int64_t* ys = transposed ? p.in : p.out;
  set_tensor(plan.x, p.n, xc, xs);
  set_tensor(plan.y, p.n, yc, ys);
  const int wdims[5] = {int(yc), int(xc / p.groups), int(p.k[0]), int(p.k[1]), int(p.k[2])};
  ok(cudnnSetFilterNdDescriptor(plan.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 5, wdims), "conv filter descriptor");
  const int pad[3] = {int(p.pad[0]), int(p.pad[1]), int(p.pad[2])};
  const int stride[3] = {int(p.stride[0]), int(p.stride[1]), int(p.stride[2])};
  const int dil[3] = {int(p.dil[0]), int(p.dil[1]), int(p.dil[2])};
  ok(cudnnSetConvolutionNdDescriptor(plan.conv, 3, pad, stride, dil, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
     "conv descriptor");
  ok(cudnnSetConvolutionGroupCount(plan.conv, int(p.groups)), "conv groups");
  ok(cudnnSetConvolutionMathType(plan.conv, CUDNN_FMA_MATH), "conv math type");  // no TF32
  int out[5] = {};
  if (cudnnGetConvolutionNdForwardOutputDim(plan.conv, plan.x, plan.w, 5, out) != CUDNN_STATUS_SUCCESS ||
      out[2] != ys[0] || out[3] != ys[1] || out[4] != ys[2]) {
    plan.direct = true;  // asymmetric padding (or an output_padding cuDNN cannot express)
    return plan;
  }
  const int kMax = 8;
  int found = 0;
  if (!transposed) {
    cudnnConvolutionFwdAlgoPerf_t perf[kMax];
    if (cudnnGetConvolutionForwardAlgorithm_v7(ctx->cudnn, plan.x, plan.w, plan.conv, plan.y, kMax, &found, perf) ==
        CUDNN_STATUS_SUCCESS)
      for (int i = 0; i < found; ++i)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].mathType != CUDNN_TENSOR_OP_MATH &&
            perf[i].mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) {
          plan.fwd = perf[i].algo;
          plan.workspace = perf[i].memory;
          return plan;
        }
  } else {
    cudnnConvolutionBwdDataAlgoPerf_t perf[kMax];
    if (cudnnGetConvolutionBackwardDataAlgorithm_v7(ctx->cudnn, plan.w, plan.y, plan.conv, plan.x, kMax, &found,
                                                    perf) == CUDNN_STATUS_SUCCESS)
      for (int i = 0; i < found; ++i)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].mathType != CUDNN_TENSOR_OP_MATH &&
            perf[i].mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) {
          plan.bwd = perf[i].algo;
          plan.workspace = perf[i].memory;
          return plan;
        }
  }
  plan.direct = true;  // no FP32 algorithm for this shape
  return plan;
}

const ConvPlan& plan_for(const kern::ConvParams& p, bool transposed) {
  vx_cuda_context* ctx = current();
  if (!ctx->conv_plans) ctx->conv_plans = new ConvPlanCache;
  std::string key(reinterpret_cast<const char*>(&p), sizeof(p));
  key.push_back(transposed ? 't' : 'f');
  auto it = ctx->conv_plans->plans.find(key);
  if (it == ctx->conv_plans->plans.end()) it = ctx->conv_plans->plans.emplace(key, make_plan(p, transposed)).first;
  return it->second;
}

// Forced direct path for tests (compares both implementations): VOXINFER_CUDA_CONV=direct.
bool force_direct() {
  static const bool v = [] {
    const char* e = std::getenv("VOXINFER_CUDA_CONV");
    return e && std::strcmp(e, "direct") == 0;
  }();
  return v;
}

}  // namespace

void route_conv_cuda(const kern::ConvParams& p, const float* src, const float* wei, const float* bias, float* dst) {
  const int64_t count = p.n * p.oc * p.out[0] * p.out[1] * p.out[2];
  if (count <= 0) return;
  const ConvPlan& plan = force_direct() ? ConvPlan{true} : plan_for(p, false);
  if (plan.direct) {
    conv_f32__cuda_direct<<<blocks(count), kThreads, 0, current()->stream>>>(p, count, src, wei, bias, dst);
    launched("conv (direct)");
    return;
  }
  void* ws = workspace(plan.workspace);
  if (plan.workspace && !ws) return;
  const float one = 1.f, zero = 0.f;
  if (ok(cudnnConvolutionForward(current()->cudnn, &one, plan.x, src, plan.w, wei, plan.conv, plan.fwd, ws,
                                 plan.workspace, &zero, plan.y, dst),
         "conv"))
    add_bias(p.n, p.oc, p.out[0] * p.out[1] * p.out[2], bias, dst);
}

void route_conv_transpose_cuda(const kern::ConvParams& p, const float* src, const float* wei, const float* bias, float* dst) {
  const int64_t count = p.n * p.oc * p.out[0] * p.out[1] * p.out[2];
  if (count <= 0) return;
  const ConvPlan& plan = force_direct() ? ConvPlan{true} : plan_for(p, true);
  if (plan.direct) {
    conv_transpose_f32__cuda_direct<<<blocks(count), kThreads, 0, current()->stream>>>(p, count, src, wei, bias, dst);
    launched("conv_transpose (direct)");
    return;
  }
  void* ws = workspace(plan.workspace);
  if (plan.workspace && !ws) return;
  const float one = 1.f, zero = 0.f;
  if (ok(cudnnConvolutionBackwardData(current()->cudnn, &one, plan.w, wei, plan.y, src, plan.conv, plan.bwd, ws,
                                      plan.workspace, &zero, plan.x, dst),
         "conv_transpose"))
    add_bias(p.n, p.oc, p.out[0] * p.out[1] * p.out[2], bias, dst);
}

void release_conv_plans(vx_cuda_context* ctx) {
  if (!ctx->conv_plans) return;
  for (auto& kv : ctx->conv_plans->plans) {
    ConvPlan& pl = kv.second;
    if (pl.x) cudnnDestroyTensorDescriptor(pl.x);
    if (pl.y) cudnnDestroyTensorDescriptor(pl.y);
    if (pl.w) cudnnDestroyFilterDescriptor(pl.w);
    if (pl.conv) cudnnDestroyConvolutionDescriptor(pl.conv);
  }
  delete ctx->conv_plans;
  ctx->conv_plans = nullptr;
}

}  // namespace vx::cuda
