#include "cuda/common.cuh"
#include "cuda/elementwise.cuh"

namespace vx::cuda {
namespace {

__global__ void unary_kernel(kern::Unary op, float alpha, int64_t count, const float* src, float* dst) {
  VX_CUDA_LOOP(i, count) {
    const float v = src[i];
    float r = v;
    switch (op) {
      case kern::Unary::identity: r = v; break;
      case kern::Unary::relu: r = v > 0.f ? v : 0.f; break;
      case kern::Unary::leaky_relu: r = v >= 0.f ? v : alpha * v; break;
      case kern::Unary::sigmoid: r = 1.f / (1.f + expf(-v)); break;
      case kern::Unary::tanh: r = tanhf(v); break;
    }
    dst[i] = r;
  }
}

__global__ void binary_kernel(kern::Binary op, kern::BroadcastParams p, int64_t count, const float* a, const float* b,
                              float* dst) {
  VX_CUDA_LOOP(i, count) {
    int64_t rest = i, ia = 0, ib = 0;
    for (int d = 4; d >= 0; --d) {
      const int64_t x = rest % p.out[d];
      rest /= p.out[d];
      ia += x * p.a_stride[d];
      ib += x * p.b_stride[d];
    }
    const float va = a[ia], vb = b[ib];
    float r = 0.f;
    switch (op) {
      case kern::Binary::add: r = va + vb; break;
      case kern::Binary::sub: r = va - vb; break;
      case kern::Binary::mul: r = va * vb; break;
      case kern::Binary::div: r = va / vb; break;
    }
    dst[i] = r;
  }
}

__global__ void affine_kernel(int64_t count, int64_t c, int64_t inner, const float* scale, const float* shift,
                              const float* src, float* dst) {
  VX_CUDA_LOOP(i, count) {
    const int64_t ch = (i / inner) % c;
    dst[i] = src[i] * scale[ch] + shift[ch];
  }
}

__global__ void bias_kernel(int64_t count, int64_t c, int64_t inner, const float* bias, float* dst) {
  VX_CUDA_LOOP(i, count) dst[i] += bias[(i / inner) % c];
}

__global__ void copy_kernel(kern::CopyParams p, int64_t count, const float* src, float* dst) {
  VX_CUDA_LOOP(i, count) {
    int64_t rest = i, is = 0, id = 0;
    for (int d = 4; d >= 0; --d) {
      const int64_t x = rest % p.shape[d];
      rest /= p.shape[d];
      is += x * p.src_stride[d];
      id += x * p.dst_stride[d];
    }
    dst[id] = src[is];
  }
}

}  // namespace

void unary_f32__cuda_direct(kern::Unary op, float alpha, int64_t count, const float* src, float* dst) {
  if (count <= 0) return;
  unary_kernel<<<blocks(count), kThreads, 0, current()->stream>>>(op, alpha, count, src, dst);
  launched("unary");
}

void binary_f32__cuda_direct(kern::Binary op, const kern::BroadcastParams& p, const float* a, const float* b, float* dst) {
  const int64_t count = p.out[0] * p.out[1] * p.out[2] * p.out[3] * p.out[4];
  if (count <= 0) return;
  binary_kernel<<<blocks(count), kThreads, 0, current()->stream>>>(op, p, count, a, b, dst);
  launched("binary");
}

void channel_affine_f32__cuda_direct(int64_t n, int64_t c, int64_t inner, const float* scale, const float* shift, const float* src,
                    float* dst) {
  const int64_t count = n * c * inner;
  if (count <= 0) return;
  affine_kernel<<<blocks(count), kThreads, 0, current()->stream>>>(count, c, inner, scale, shift, src, dst);
  launched("channel_affine");
}

void add_bias(int64_t outer, int64_t c, int64_t inner, const float* bias, float* dst) {
  const int64_t count = outer * c * inner;
  if (count <= 0 || !bias) return;
  bias_kernel<<<blocks(count), kThreads, 0, current()->stream>>>(count, c, inner, bias, dst);
  launched("bias");
}

void copy_f32__cuda_direct(const kern::CopyParams& p, const float* src, float* dst) {
  const int64_t count = p.shape[0] * p.shape[1] * p.shape[2] * p.shape[3] * p.shape[4];
  if (count <= 0) return;
  copy_kernel<<<blocks(count), kThreads, 0, current()->stream>>>(p, count, src, dst);
  launched("copy");
}

}  // namespace vx::cuda
