// Convolution and transposed convolution through oneDNN, with a process-wide cache of
// primitives and reordered (blocked) weights, and a GEMM + depth-to-space path for the
// stride == kernel transposed convolutions of U-Net decoders.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>

#include "cpu/cpu_kernels.h"
#include "ref/ref_kernels.h"

namespace vx::kern::cpu {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& engine() {
  static dnnl::engine e = [] {
    // Cap oneDNN's own JIT at VX_MAX_ISA so a capped run is capped everywhere. Fails
    // harmlessly when someone else already used oneDNN in this process.
    try {
      if (max_isa() == Isa::scalar) dnnl::set_max_cpu_isa(dnnl::cpu_isa::sse41);
      else if (max_isa() == Isa::avx2) dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx2);
    } catch (const dnnl::error&) {
    }
    return dnnl::engine(dnnl::engine::kind::cpu, 0);
  }();
  return e;
}

// A per-thread, 64-byte aligned scratch buffer that only grows.
struct Scratch {
  float* ptr = nullptr;
  size_t bytes = 0;
  ~Scratch() { std::free(ptr); }
  void* get(size_t want) {
    if (want > bytes) {
      std::free(ptr);
      bytes = (want + 63) / 64 * 64;
      ptr = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!ptr) throw std::bad_alloc();
    }
    return ptr;
  }
};
thread_local Scratch t_scratchpad, t_src, t_dst, t_gemm;

std::atomic<int> g_layout{static_cast<int>(ConvLayout::automatic)};

struct Entry {
  bool fallback = false;  // oneDNN refused the shape: use the reference kernels
  dnnl::primitive prim;
  memory::desc src_plain, dst_plain, src_md, dst_md;
  memory wei;  // reordered weights, owned by the cache
  size_t scratch_bytes = 0;
};

// ConvLayout::automatic, from bench/conv_bench (1 thread, CPU time, AVX-512): pointwise
// convs and one-channel inputs are a single GEMM on NCDHW (2x faster than brgconv plus
// the reorders); everything else is 1.3-2.6x faster on oneDNN's own layouts.
bool use_blocked(const ConvParams& p, bool transpose) {
  const ConvLayout l = static_cast<ConvLayout>(g_layout.load());
  if (l != ConvLayout::automatic) return l == ConvLayout::blocked;
  if (transpose) return true;
  const bool pointwise = p.k[0] * p.k[1] * p.k[2] == 1 && p.stride[0] * p.stride[1] * p.stride[2] == 1 &&
                         p.pad[0] + p.pad[1] + p.pad[2] == 0;
  return !(pointwise || p.ic / p.groups == 1);
}

std::mutex g_mutex;
std::unordered_map<std::string, std::shared_ptr<const Entry>> g_cache;
constexpr size_t kMaxEntries = 1024;

// Identity of a weight buffer: its address plus an FNV-1a hash of up to 256 evenly spaced
// values and the last one, so a freed-and-reused address with new weights is noticed.
uint64_t weight_sig(const float* w, int64_t count) {
  uint64_t h = 1469598103934665603ull ^ static_cast<uint64_t>(count);
  const int64_t step = std::max<int64_t>(1, count / 256);
  auto mix = [&](int64_t i) {
    uint32_t bits;
    std::memcpy(&bits, w + i, 4);
    h = (h ^ bits) * 1099511628211ull;
  };
  for (int64_t i = 0; i < count; i += step) mix(i);
  if (count) mix(count - 1);
  return h;
}

template <class T>
void put(std::string& s, const T& v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}

std::string make_key(const ConvParams& p, const ConvPostOps& post, bool transpose, bool has_bias, const float* wei) {
  std::string k;
  k.reserve(256);
  put(k, p.n), put(k, p.ic), put(k, p.oc), put(k, p.groups);
  for (int i = 0; i < 3; ++i) put(k, p.in[i]), put(k, p.out[i]), put(k, p.k[i]), put(k, p.stride[i]), put(k, p.pad[i]), put(k, p.dil[i]);
  put(k, static_cast<int>(post.act)), put(k, post.alpha), put(k, post.has_residual);
  put(k, transpose), put(k, has_bias), put(k, g_layout.load()), put(k, omp_get_max_threads());
  put(k, wei);
  const int64_t wcount = (transpose ? p.ic * (p.oc / p.groups) : p.oc * (p.ic / p.groups)) * p.k[0] * p.k[1] * p.k[2];
  put(k, weight_sig(wei, wcount));
  return k;
}

dnnl::algorithm eltwise_alg(Unary u) {
  switch (u) {
    case Unary::relu:
    case Unary::leaky_relu: return dnnl::algorithm::eltwise_relu;
    case Unary::sigmoid: return dnnl::algorithm::eltwise_logistic;
    case Unary::tanh: return dnnl::algorithm::eltwise_tanh;
    case Unary::identity: break;
  }
  return dnnl::algorithm::undef;
}

std::shared_ptr<const Entry> create(const ConvParams& p, const ConvPostOps& post, bool transpose, bool has_bias,
                                    const float* wei_ptr) {
  auto e = std::make_shared<Entry>();
  try {
    dnnl::engine& eng = engine();
    // A 2-D problem (depth 1 everywhere) goes to oneDNN as 2-D: its 2-D kernels are tuned.
    const bool two_d = p.in[0] == 1 && p.out[0] == 1 && p.k[0] == 1 && p.pad[0] == 0 && p.stride[0] == 1;
    const int a0 = two_d ? 1 : 0;
    memory::dims src_d{p.n, p.ic}, dst_d{p.n, p.oc}, strides, dil, pl, pr;
    const int64_t g = p.groups, ocg = p.oc / g, icg = p.ic / g;
    memory::dims wei_d = g > 1 ? memory::dims{g, ocg, icg} : memory::dims{p.oc, p.ic};
    for (int i = a0; i < 3; ++i) {
      src_d.push_back(p.in[i]);
      dst_d.push_back(p.out[i]);
      wei_d.push_back(p.k[i]);
      strides.push_back(p.stride[i]);
      dil.push_back(p.dil[i] - 1);
      pl.push_back(p.pad[i]);
      const int64_t span = (p.k[i] - 1) * p.dil[i] + 1;
      // Right padding that reproduces p.out (ONNX's end padding is not in ConvParams).
      if (!transpose) pr.push_back(std::max<int64_t>(0, (p.out[i] - 1) * p.stride[i] + span - p.in[i] - p.pad[i]));
      else pr.push_back((p.in[i] - 1) * p.stride[i] + span - p.pad[i] - p.out[i]);
    }
    const tag plain = two_d ? tag::nchw : tag::ncdhw;
    tag wei_tag;
    if (!transpose) wei_tag = g > 1 ? (two_d ? tag::goihw : tag::goidhw) : (two_d ? tag::oihw : tag::oidhw);
    else wei_tag = g > 1 ? (two_d ? tag::giohw : tag::giodhw) : (two_d ? tag::iohw : tag::iodhw);
    const bool blocked = use_blocked(p, transpose);
    e->src_plain = memory::desc(src_d, dt::f32, plain);
    e->dst_plain = memory::desc(dst_d, dt::f32, plain);
    const memory::desc src_any = blocked ? memory::desc(src_d, dt::f32, tag::any) : e->src_plain;
    const memory::desc dst_any = blocked ? memory::desc(dst_d, dt::f32, tag::any) : e->dst_plain;
    const memory::desc wei_any(wei_d, dt::f32, tag::any);
    const memory::desc bias_md = has_bias ? memory::desc({p.oc}, dt::f32, tag::x) : memory::desc();

    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::post_ops po;
    if (post.has_residual) po.append_sum(1.f);
    if (post.act != Unary::identity)
      po.append_eltwise(1.f, eltwise_alg(post.act), post.act == Unary::leaky_relu ? post.alpha : 0.f, 0.f);
    attr.set_post_ops(po);

    memory::desc wei_md, scratch_md;
    if (!transpose) {
      dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                        src_any, wei_any, bias_md, dst_any, strides, dil, pl, pr);
      dnnl::convolution_forward::primitive_desc pd(d, attr, eng);
      e->prim = dnnl::convolution_forward(pd);
      e->src_md = pd.src_desc(), e->dst_md = pd.dst_desc(), wei_md = pd.weights_desc();
      scratch_md = pd.scratchpad_desc();
    } else {
      dnnl::deconvolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct,
                                          src_any, wei_any, bias_md, dst_any, strides, dil, pl, pr);
      dnnl::deconvolution_forward::primitive_desc pd(d, attr, eng);
      e->prim = dnnl::deconvolution_forward(pd);
      e->src_md = pd.src_desc(), e->dst_md = pd.dst_desc(), wei_md = pd.weights_desc();
      scratch_md = pd.scratchpad_desc();
    }
    e->scratch_bytes = scratch_md.get_size();
    // With one channel, channels-last is byte-for-byte the plain layout: no reorder needed.
    const tag last = two_d ? tag::nhwc : tag::ndhwc;
    if (p.ic == 1 && e->src_md == memory::desc(src_d, dt::f32, last)) e->src_md = e->src_plain;
    if (p.oc == 1 && e->dst_md == memory::desc(dst_d, dt::f32, last)) e->dst_md = e->dst_plain;
    memory user_wei(memory::desc(wei_d, dt::f32, wei_tag), eng, const_cast<float*>(wei_ptr));
    e->wei = memory(wei_md, eng);
    dnnl::stream s(eng);
    dnnl::reorder(user_wei, e->wei).execute(s, user_wei, e->wei);
    s.wait();
  } catch (const dnnl::error&) {
    e = std::make_shared<Entry>();
    e->fallback = true;
  }
  return e;
}

std::shared_ptr<const Entry> lookup(const ConvParams& p, const ConvPostOps& post, bool transpose, bool has_bias,
                                    const float* wei) {
  const std::string key = make_key(p, post, transpose, has_bias, wei);
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_cache.find(key);
    if (it != g_cache.end()) return it->second;
  }
  auto e = create(p, post, transpose, has_bias, wei);  // slow: outside the lock
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_cache.size() >= kMaxEntries) g_cache.clear();  // in-flight users hold their shared_ptr
  return g_cache.emplace(key, e).first->second;
}

// The reference path with post-ops, for shapes oneDNN refuses.
void fallback(const ConvParams& p, const ConvPostOps& post, bool transpose, const float* src, const float* wei,
              const float* bias, const float* residual, float* dst) {
  KernelTable t = ref_kernels();
  t.conv_fused = nullptr;
  if (transpose) t.conv = t.conv_transpose;
  run_conv_fused(t, p, post, src, wei, bias, residual, dst);
}

void execute(const ConvParams& p, const ConvPostOps& post, bool transpose, const float* src, const float* wei,
             const float* bias, const float* residual, float* dst) {
  auto e = lookup(p, post, transpose, bias != nullptr, wei);
  if (e->fallback) return fallback(p, post, transpose, src, wei, bias, residual, dst);
  dnnl::engine& eng = engine();
  dnnl::stream s(eng);
  memory src_user(e->src_plain, eng, const_cast<float*>(src));
  memory dst_user(e->dst_plain, eng, dst);
  const bool src_reorder = e->src_md != e->src_plain, dst_reorder = e->dst_md != e->dst_plain;
  memory src_m = src_reorder ? memory(e->src_md, eng, t_src.get(e->src_md.get_size())) : src_user;
  memory dst_m = dst_reorder ? memory(e->dst_md, eng, t_dst.get(e->dst_md.get_size())) : dst_user;
  if (src_reorder) dnnl::reorder(src_user, src_m).execute(s, src_user, src_m);
  if (post.has_residual) {
    // The sum post-op accumulates into what dst already holds.
    memory res_user(e->dst_plain, eng, const_cast<float*>(residual));
    if (dst_reorder) dnnl::reorder(res_user, dst_m).execute(s, res_user, dst_m);
    else if (residual != dst) dnnl::reorder(res_user, dst_m).execute(s, res_user, dst_m);  // parallel copy
  }
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, e->wei}, {DNNL_ARG_DST, dst_m}};
  if (bias) args[DNNL_ARG_BIAS] = memory(memory::desc({p.oc}, dt::f32, tag::x), eng, const_cast<float*>(bias));
  if (e->scratch_bytes)
    args[DNNL_ARG_SCRATCHPAD] =
        memory(memory::desc({static_cast<int64_t>(e->scratch_bytes)}, dt::u8, tag::x), eng, t_scratchpad.get(e->scratch_bytes));
  e->prim.execute(s, args);
  if (dst_reorder) dnnl::reorder(dst_m, dst_user).execute(s, dst_m, dst_user);
  s.wait();
}

bool is_d2s(const ConvParams& p) {
  if (p.groups != 1) return false;
  for (int i = 0; i < 3; ++i)
    if (p.k[i] != p.stride[i] || p.pad[i] != 0 || p.dil[i] != 1 || p.out[i] != p.in[i] * p.k[i]) return false;
  return true;
}

}  // namespace

void set_conv_layout(ConvLayout layout) { g_layout.store(static_cast<int>(layout)); }
ConvLayout conv_layout() { return static_cast<ConvLayout>(g_layout.load()); }

void clear_conv_cache() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_cache.clear();
}

size_t conv_cache_size() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_cache.size();
}

void conv_f32__onednn(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst) {
  execute(p, ConvPostOps{}, false, src, wei, bias, nullptr, dst);
}

void conv_fused_f32__onednn(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                            const float* bias, const float* residual, float* dst) {
  execute(p, post, false, src, wei, bias, post.has_residual ? residual : nullptr, dst);
}

void conv_transpose_f32__onednn_deconv(const ConvParams& p, const float* src, const float* wei, const float* bias,
                                       float* dst) {
  execute(p, ConvPostOps{}, true, src, wei, bias, nullptr, dst);
}

void conv_transpose_f32__onednn(const ConvParams& p, const float* src, const float* wei, const float* bias,
                                float* dst) {
  if (is_d2s(p)) return conv_transpose_f32__gemm_d2s(p, src, wei, bias, dst);
  conv_transpose_f32__onednn_deconv(p, src, wei, bias, dst);
}

// With stride == kernel and no padding, every output voxel receives exactly one
// contribution: dst[o, z*kd+a, y*kh+b, x*kw+c] = bias[o] + sum_i wei[i, o, a, b, c] * src[i, z, y, x].
// That is a GEMM  Y[o*K + k, s] = sum_i wei[i, o*K + k] * src[i, s]  (K = kd*kh*kw, s a
// voxel) followed by a depth-to-space scatter. Work items are fixed blocks of input rows
// (about 512 voxels): each thread runs a single-threaded sgemm on its block into a small
// per-thread Y (it stays in L2) and scatters it at once. A block's arithmetic never depends
// on the thread count, so results are bit-identical across thread counts.
void conv_transpose_f32__gemm_d2s(const ConvParams& p, const float* src, const float* wei, const float* bias,
                                  float* dst) {
  const int64_t K = p.k[0] * p.k[1] * p.k[2], plane = p.in[1] * p.in[2], S = p.in[0] * plane;
  const int64_t ocK = p.oc * K, out_sp = p.out[0] * p.out[1] * p.out[2];
  const int64_t rows = std::max<int64_t>(1, std::min<int64_t>(p.in[1], 512 / std::max<int64_t>(1, p.in[2])));
  const int64_t yblocks = (p.in[1] + rows - 1) / rows, items = p.n * p.in[0] * yblocks;
  engine();  // applies the ISA cap before oneDNN's first use
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t n = item / (p.in[0] * yblocks), z = (item / yblocks) % p.in[0], y0 = (item % yblocks) * rows;
    const int64_t ny = std::min(rows, p.in[1] - y0), cols = ny * p.in[2];
    float* y = static_cast<float*>(t_gemm.get(sizeof(float) * static_cast<size_t>(ocK * cols)));
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

}  // namespace vx::kern::cpu
