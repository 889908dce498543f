// Convolution and transposed convolution through oneDNN, with a process-wide cache of
// primitives and reordered (blocked) weights, and a GEMM + depth-to-space path for the
// stride == kernel transposed convolutions of U-Net decoders.
#include <omp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

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
  const float* user_wei = nullptr;  // the weights it was made from (to drop it with their model file)
  std::vector<float> bias;          // a copy of a bias that lives in a model file (see execute)
  dnnl::primitive prim;
  memory::desc src_user, dst_user, src_md, dst_md;  // the caller's layouts; the primitive's
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

// Identity of a weight buffer: its address plus an FNV-1a hash of its first and last 64
// values, so a freed-and-reused address with new weights is noticed. Weights in a registered
// model file need no hash (their entries go when the file is unregistered), and reading them
// would fault given-back pages in again.
uint64_t weight_sig(const float* w, int64_t count) {
  uint64_t h = 1469598103934665603ull ^ static_cast<uint64_t>(count);
  auto mix = [&](int64_t i) {
    uint32_t bits;
    std::memcpy(&bits, w + i, 4);
    h = (h ^ bits) * 1099511628211ull;
  };
  for (int64_t i = 0; i < std::min<int64_t>(count, 64); ++i) mix(i);
  for (int64_t i = std::max<int64_t>(64, count - 64); i < count; ++i) mix(i);
  return h;
}

// Read-only file mappings that hold weights (register_file_weights).
std::mutex g_files_mutex;
std::vector<std::pair<const uint8_t*, const uint8_t*>> g_files;

bool in_file(const float* w) {
  const uint8_t* b = reinterpret_cast<const uint8_t*>(w);
  std::lock_guard<std::mutex> lock(g_files_mutex);
  for (const auto& f : g_files)
    if (b >= f.first && b < f.second) return true;
  return false;
}

// Gives the whole pages of [p, p + bytes) back to the OS when they lie in a registered file
// mapping: they are clean file pages, so a later read brings the same bytes back from the file.
void release_file_pages(const void* p, size_t bytes) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  std::lock_guard<std::mutex> lock(g_files_mutex);
  for (const auto& f : g_files)
    if (b >= f.first && b + bytes <= f.second) {
      const uintptr_t lo = (reinterpret_cast<uintptr_t>(b) + page - 1) / page * page;
      const uintptr_t hi = (reinterpret_cast<uintptr_t>(b) + bytes) / page * page;
      if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
      return;
    }
}

template <class T>
void put(std::string& s, const T& v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}

std::string make_key(const ConvParams& p, const ConvPostOps& post, bool transpose, const float* bias, const float* wei) {
  const bool has_bias = bias != nullptr;
  std::string k;
  k.reserve(256);
  put(k, p.n), put(k, p.ic), put(k, p.oc), put(k, p.groups);
  for (int i = 0; i < 3; ++i) put(k, p.in[i]), put(k, p.out[i]), put(k, p.k[i]), put(k, p.stride[i]), put(k, p.pad[i]), put(k, p.dil[i]);
  put(k, static_cast<int>(post.act)), put(k, post.alpha), put(k, post.has_residual);
  put(k, transpose), put(k, has_bias), put(k, g_layout.load()), put(k, omp_get_max_threads());
  put(k, p.src_layout), put(k, p.dst_layout);
  put(k, wei), put(k, bias);
  const int64_t wcount = (transpose ? p.ic * (p.oc / p.groups) : p.oc * (p.ic / p.groups)) * p.k[0] * p.k[1] * p.k[2];
  put(k, in_file(wei) ? uint64_t{0} : weight_sig(wei, wcount));
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

// Copies the plain weights `from` (at `ptr`) into the primitive's format `to`. When they lie
// in a model file, slices of output channels go one at a time, each slice's plain pages given
// back as soon as it is copied, so plain and reordered weights are never both resident
// (the reordered buffer's pages only become resident as they are written).
void reorder_weights(const memory& from, const memory& to, const float* ptr) {
  dnnl::stream s(engine());
  const memory::desc fd = from.get_desc(), td = to.get_desc();
  const memory::dims dims = fd.dims();
  int64_t ob = 1;  // the block of output channels in `to`
  for (int i = 0; i < td.data.format_desc.blocking.inner_nblks; ++i)
    if (td.data.format_desc.blocking.inner_idxs[i] == 0) ob *= td.data.format_desc.blocking.inner_blks[i];
  bool padded = false;
  for (int i = 0; i < td.data.ndims; ++i) padded = padded || td.data.padded_dims[i] != td.data.dims[i];
  const int64_t per_o = dims[0] ? static_cast<int64_t>(fd.get_size() / sizeof(float)) / dims[0] : 0;
  if (!in_file(ptr) || padded || td.data.format_kind != dnnl_blocked || dims[0] % ob != 0) {
    dnnl::reorder(from, to).execute(s, const_cast<memory&>(from), const_cast<memory&>(to));
    s.wait();
    release_file_pages(ptr, fd.get_size());
    return;
  }
  const int64_t chunk = std::max<int64_t>(ob, (dims[0] / 8 + ob - 1) / ob * ob);
  for (int64_t o0 = 0; o0 < dims[0]; o0 += chunk) {
    memory::dims sd = dims, off(dims.size(), 0);
    sd[0] = std::min(chunk, dims[0] - o0);
    off[0] = o0;
    memory fm(fd.submemory_desc(sd, off), from.get_engine(), from.get_data_handle());
    memory tm(td.submemory_desc(sd, off), to.get_engine(), to.get_data_handle());
    dnnl::reorder(fm, tm).execute(s, fm, tm);
    s.wait();
    release_file_pages(ptr + o0 * per_o, static_cast<size_t>(sd[0] * per_o) * sizeof(float));
  }
}

std::shared_ptr<const Entry> create(const ConvParams& p, const ConvPostOps& post, bool transpose, const float* bias,
                                    const float* wei_ptr) {
  const bool has_bias = bias != nullptr;
  auto e = std::make_shared<Entry>();
  e->user_wei = wei_ptr;
  // Reading a bias in a model file at every call would fault its pages (and their
  // neighbours, the weights given back below) in again: keep a copy.
  if (bias && in_file(bias)) e->bias.assign(bias, bias + p.oc);
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
    const tag plain = two_d ? tag::nchw : tag::ncdhw, blocked16 = two_d ? tag::nChw16c : tag::nCdhw16c;
    tag wei_tag;
    if (!transpose) wei_tag = g > 1 ? (two_d ? tag::goihw : tag::goidhw) : (two_d ? tag::oihw : tag::oidhw);
    else wei_tag = g > 1 ? (two_d ? tag::giohw : tag::giodhw) : (two_d ? tag::iohw : tag::iodhw);
    // A caller with one side blocked gets oneDNN's own layouts (plus a reorder) on the other:
    // oneDNN has no fast kernels for mixed blocked/plain operands, except a one-channel plain
    // src (the first layer), which it reads directly.
    const bool blocked = use_blocked(p, transpose) || (p.src_layout != p.dst_layout && p.ic > 1);
    const bool src_b = p.src_layout == Layout::blocked16, dst_b = p.dst_layout == Layout::blocked16;
    e->src_user = memory::desc(src_d, dt::f32, src_b ? blocked16 : plain);
    e->dst_user = memory::desc(dst_d, dt::f32, dst_b ? blocked16 : plain);
    // A caller already in the blocked layout gets a primitive on it (no reorder); otherwise
    // oneDNN chooses (and we reorder at the edges) or runs on the plain layout directly.
    const memory::desc src_any = src_b || !blocked ? e->src_user : memory::desc(src_d, dt::f32, tag::any);
    const memory::desc dst_any = dst_b || !blocked ? e->dst_user : memory::desc(dst_d, dt::f32, tag::any);
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
    if (p.ic == 1 && !src_b && e->src_md == memory::desc(src_d, dt::f32, last)) e->src_md = e->src_user;
    if (p.oc == 1 && !dst_b && e->dst_md == memory::desc(dst_d, dt::f32, last)) e->dst_md = e->dst_user;
    memory user_wei(memory::desc(wei_d, dt::f32, wei_tag), eng, const_cast<float*>(wei_ptr));
    if (wei_md == user_wei.get_desc()) {
      e->wei = user_wei;  // the primitive reads the caller's weights as they are: no copy
    } else {
      e->wei = memory(wei_md, eng);
      reorder_weights(user_wei, e->wei, wei_ptr);
    }
  } catch (const dnnl::error&) {
    e = std::make_shared<Entry>();
    e->fallback = true;
    e->user_wei = wei_ptr;
    if (bias && in_file(bias)) e->bias.assign(bias, bias + p.oc);
  }
  return e;
}

std::shared_ptr<const Entry> lookup(const ConvParams& p, const ConvPostOps& post, bool transpose, const float* bias,
                                    const float* wei) {
  const std::string key = make_key(p, post, transpose, bias, wei);
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_cache.find(key);
    if (it != g_cache.end()) return it->second;
  }
  auto e = create(p, post, transpose, bias, wei);  // slow: outside the lock
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_cache.size() >= kMaxEntries) g_cache.clear();  // in-flight users hold their shared_ptr
  return g_cache.emplace(key, e).first->second;
}

// The reference path with post-ops, for shapes oneDNN refuses; blocked operands go
// through plain copies (the reference kernels know only the plain layout).
void fallback(const ConvParams& p, const ConvPostOps& post, bool transpose, const float* src, const float* wei,
              const float* bias, const float* residual, float* dst) {
  KernelTable t = ref_kernels();
  t.conv_fused = nullptr;
  if (transpose) t.conv = t.conv_transpose;
  ConvParams q = p;
  q.src_layout = q.dst_layout = Layout::plain;
  const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
  std::vector<float> s, d, r;
  if (p.src_layout == Layout::blocked16) {
    s.resize(static_cast<size_t>(p.n * p.ic * in_sp));
    reorder_f32__onednn(p.n, p.ic, in_sp, Layout::blocked16, Layout::plain, src, s.data());
    src = s.data();
  }
  if (p.dst_layout == Layout::blocked16) {
    d.resize(static_cast<size_t>(p.n * p.oc * out_sp));
    if (residual) {
      r.resize(d.size());
      reorder_f32__onednn(p.n, p.oc, out_sp, Layout::blocked16, Layout::plain, residual, r.data());
      residual = r.data();
    }
  }
  run_conv_fused(t, q, post, src, wei, bias, residual, d.empty() ? dst : d.data());
  if (!d.empty()) reorder_f32__onednn(p.n, p.oc, out_sp, Layout::plain, Layout::blocked16, d.data(), dst);
}

// A pointwise conv from blocked16 to plain (a U-Net's few-class head): one GEMM per block of
// 16 input channels, accumulating, straight into the caller's plain dst. oneDNN would need a
// channel-padded blocked dst (16/oc times the output) or a reordered src.
bool pointwise_to_plain(const ConvParams& p, const ConvPostOps& post, bool transpose) {
  bool pw = !transpose && p.groups == 1 && !post.has_residual && p.src_layout == Layout::blocked16 &&
            p.dst_layout == Layout::plain && p.oc % 16 != 0;
  for (int i = 0; i < 3; ++i) pw = pw && p.k[i] == 1 && p.stride[i] == 1 && p.pad[i] == 0;
  return pw;
}

void run_pointwise_to_plain(const ConvParams& p, const ConvPostOps& post, const float* src, const float* wei,
                            const float* bias, float* dst) {
  engine();  // applies the ISA cap before oneDNN's first use
  const int64_t S = p.in[0] * p.in[1] * p.in[2], icb = p.ic / 16;
  for (int64_t n = 0; n < p.n; ++n) {
    float* d = dst + n * p.oc * S;
    for (int64_t b = 0; b < icb; ++b)
      dnnl::sgemm('N', 'T', p.oc, S, 16, 1.f, wei + b * 16, p.ic, src + (n * icb + b) * S * 16, 16, b ? 1.f : 0.f, d, S);
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < p.oc; ++o)
      for (int64_t i = 0; i < S; ++i) {
        float v = d[o * S + i] + (bias ? bias[o] : 0.f);
        switch (post.act) {
          case Unary::relu: v = v > 0.f ? v : 0.f; break;
          case Unary::leaky_relu: v = v > 0.f ? v : post.alpha * v; break;
          case Unary::sigmoid: v = 1.f / (1.f + std::exp(-v)); break;
          case Unary::tanh: v = std::tanh(v); break;
          case Unary::identity: break;
        }
        d[o * S + i] = v;
      }
  }
}

void execute(const ConvParams& p, const ConvPostOps& post, bool transpose, const float* src, const float* wei,
             const float* bias, const float* residual, float* dst) {
  if (pointwise_to_plain(p, post, transpose)) return run_pointwise_to_plain(p, post, src, wei, bias, dst);
  auto e = lookup(p, post, transpose, bias, wei);
  if (!e->bias.empty()) bias = e->bias.data();
  if (e->fallback) return fallback(p, post, transpose, src, wei, bias, residual, dst);
  dnnl::engine& eng = engine();
  dnnl::stream s(eng);
  memory src_user(e->src_user, eng, const_cast<float*>(src));
  memory dst_user(e->dst_user, eng, dst);
  const bool src_reorder = e->src_md != e->src_user, dst_reorder = e->dst_md != e->dst_user;
  memory src_m = src_reorder ? memory(e->src_md, eng, t_src.get(e->src_md.get_size())) : src_user;
  memory dst_m = dst_reorder ? memory(e->dst_md, eng, t_dst.get(e->dst_md.get_size())) : dst_user;
  if (src_reorder) dnnl::reorder(src_user, src_m).execute(s, src_user, src_m);
  if (post.has_residual) {
    // The sum post-op accumulates into what dst already holds.
    memory res_user(e->dst_user, eng, const_cast<float*>(residual));
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

}  // namespace

void reorder_f32__onednn(int64_t n, int64_t c, int64_t spatial, Layout from, Layout to, const float* src,
                         float* dst) {
  if (from == to) {
    if (src != dst) std::memcpy(dst, src, static_cast<size_t>(n * c * spatial) * sizeof(float));
    return;
  }
  // [n][c/16][spatial][16] is nCw16c whatever the spatial rank: reorder as 1-D.
  const memory::dims d{n, c, spatial};
  auto md = [&](Layout l) { return memory::desc(d, dt::f32, l == Layout::blocked16 ? tag::nCw16c : tag::ncw); };
  dnnl::engine& eng = engine();
  dnnl::stream s(eng);
  memory a(md(from), eng, const_cast<float*>(src)), b(md(to), eng, dst);
  dnnl::reorder(a, b).execute(s, a, b);
  s.wait();
}

namespace {

bool is_d2s(const ConvParams& p) {
  if (p.groups != 1) return false;
  for (int i = 0; i < 3; ++i)
    if (p.k[i] != p.stride[i] || p.pad[i] != 0 || p.dil[i] != 1 || p.out[i] != p.in[i] * p.k[i]) return false;
  return true;
}

}  // namespace

void register_file_weights(const void* begin, size_t bytes) {
  std::lock_guard<std::mutex> lock(g_files_mutex);
  const uint8_t* b = static_cast<const uint8_t*>(begin);
  g_files.emplace_back(b, b + bytes);
}

void unregister_file_weights(const void* begin) {
  const uint8_t* lo = static_cast<const uint8_t*>(begin);
  const uint8_t* hi = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_files_mutex);
    for (size_t i = 0; i < g_files.size() && !hi; ++i)
      if (g_files[i].first == lo) {
        hi = g_files[i].second;
        g_files.erase(g_files.begin() + static_cast<std::ptrdiff_t>(i));
      }
  }
  if (!hi) return;
  // Its entries were keyed without a hash: drop them before the address range can be reused.
  std::lock_guard<std::mutex> lock(g_mutex);
  for (auto it = g_cache.begin(); it != g_cache.end();) {
    const uint8_t* w = reinterpret_cast<const uint8_t*>(it->second->user_wei);
    it = w >= lo && w < hi ? g_cache.erase(it) : std::next(it);
  }
}

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
void gemm_d2s_blocked(const ConvParams& p, const float* src, const float* wei, const float* bias, float* dst) {
  const int64_t K = p.k[0] * p.k[1] * p.k[2], plane = p.in[1] * p.in[2], S = p.in[0] * plane;
  const int64_t ocK = p.oc * K, out_sp = p.out[0] * p.out[1] * p.out[2], icb = p.ic / 16, ocb = p.oc / 16;
  std::vector<float> wt(static_cast<size_t>(p.ic * ocK));
  for (int64_t i = 0; i < p.ic; ++i)
    for (int64_t o = 0; o < p.oc; ++o)
      for (int64_t k = 0; k < K; ++k) wt[i * ocK + k * p.oc + o] = wei[i * ocK + o * K + k];
  const D2sItems items(p);
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < items.count; ++item) {
    const auto [n, z, y0, ny, cols] = items[item];
    float* yt = static_cast<float*>(t_gemm.get(sizeof(float) * static_cast<size_t>(ocK * cols)));
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

}  // namespace

void conv_transpose_f32__gemm_d2s(const ConvParams& p, const float* src, const float* wei, const float* bias,
                                  float* dst) {
  engine();  // applies the ISA cap before oneDNN's first use
  if (p.src_layout == Layout::blocked16 || p.dst_layout == Layout::blocked16) {
    const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
    ConvParams q = p;
    q.src_layout = q.dst_layout = Layout::plain;
    if (p.src_layout == p.dst_layout && p.ic % 16 == 0 && p.oc % 16 == 0) return gemm_d2s_blocked(p, src, wei, bias, dst);
    // Mixed layouts: through plain copies.
    std::vector<float> s, d;
    if (p.src_layout == Layout::blocked16) {
      s.resize(static_cast<size_t>(p.n * p.ic * in_sp));
      reorder_f32__onednn(p.n, p.ic, in_sp, Layout::blocked16, Layout::plain, src, s.data());
    }
    if (p.dst_layout == Layout::blocked16) d.resize(static_cast<size_t>(p.n * p.oc * out_sp));
    conv_transpose_f32__gemm_d2s(q, s.empty() ? src : s.data(), wei, bias, d.empty() ? dst : d.data());
    if (!d.empty()) reorder_f32__onednn(p.n, p.oc, out_sp, Layout::plain, Layout::blocked16, d.data(), dst);
    return;
  }
  const int64_t K = p.k[0] * p.k[1] * p.k[2], plane = p.in[1] * p.in[2], S = p.in[0] * plane;
  const int64_t ocK = p.oc * K, out_sp = p.out[0] * p.out[1] * p.out[2];
  const D2sItems items(p);
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < items.count; ++item) {
    const auto [n, z, y0, ny, cols] = items[item];
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
