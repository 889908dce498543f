// The CUDA backend against the reference kernels and the CPU executor.
//
// Everywhere: asking for backend "cuda" without a usable module/driver/device must give
// VX_ERR_BACKEND_UNAVAILABLE with a message. Then, without a device, the test prints
// "SKIPPED: <reason>" and exits 77, which CTest reports as Skipped (never Passed).
// With a device: every kernel of the CUDA table against kern::ref_kernels() (max abs error
// <= 1e-3 * max(1, max|ref|)), on 2-D and 3-D shapes, groups, dilation, padding, broadcast;
// then a small 3-D U-Net and a small 3-D ResNet through the executor against the CPU.
// VOXINFER_CUDA_CONV=direct reruns everything on the direct (non-cuDNN) convolutions.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "backend/cuda_loader.h"
#include "exec/executor.h"
#include "explain/backward.h"
#include "explain/gradcam.h"
#include "model/vxm_writer.h"
#include "voxinfer/voxinfer.h"

using namespace vx;

namespace {

// Points the loader at the module this build made (tests link the static library).
void use_built_module() {
#ifdef VX_CUDA_MODULE_PATH
  setenv("VOXINFER_CUDA_LIBRARY", VX_CUDA_MODULE_PATH, 0);
#endif
}

std::shared_ptr<ExecBackend> g_backend;
std::string g_reason;

bool have_device() {
  static const bool ok = [] {
    use_built_module();
    try {
      g_backend = backend::make_cuda_backend(backend::cuda_device_from_env());
      return true;
    } catch (const Error& e) {
      g_reason = e.what();
      return false;
    }
  }();
  return ok;
}

std::vector<float> random_vec(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Device buffers for one kernel call; freed at scope end.
struct Dev {
  std::vector<std::shared_ptr<uint8_t>> keep;
  float* up(const std::vector<float>& h) {
    auto p = g_backend->allocate(std::max<size_t>(h.size(), 1) * sizeof(float));
    keep.push_back(p);
    if (!h.empty()) g_backend->kernels().memory->to_device(p.get(), h.data(), h.size() * sizeof(float));
    return reinterpret_cast<float*>(p.get());
  }
  float* out(size_t n) { return up(std::vector<float>(n, std::nanf(""))); }
  std::vector<float> down(const float* d, size_t n) {
    std::vector<float> h(n);
    g_backend->kernels().memory->to_host(h.data(), d, n * sizeof(float));
    g_backend->check();
    return h;
  }
};

void expect_close(const std::vector<float>& ref, const std::vector<float>& got, const std::string& what) {
  REQUIRE(ref.size() == got.size());
  float max_ref = 0.f, max_err = 0.f;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_ref = std::max(max_ref, std::fabs(ref[i]));
    const float e = std::fabs(ref[i] - got[i]);
    max_err = std::isnan(e) ? INFINITY : std::max(max_err, e);
  }
  INFO(what << ": max abs error " << max_err << ", max |ref| " << max_ref);
  CHECK(max_err <= 1e-3f * std::max(1.f, max_ref));
}

int64_t sp(const int64_t e[3]) { return e[0] * e[1] * e[2]; }

void check_conv(kern::ConvParams p, bool transposed, int64_t pad_end[3], const std::string& what) {
  for (int i = 0; i < 3; ++i) {
    const int64_t span = p.dil[i] * (p.k[i] - 1) + 1;
    p.out[i] = transposed ? (p.in[i] - 1) * p.stride[i] - p.pad[i] - pad_end[i] + span
                          : (p.in[i] + p.pad[i] + pad_end[i] - span) / p.stride[i] + 1;
  }
  const int64_t wn = (transposed ? p.ic * (p.oc / p.groups) : p.oc * (p.ic / p.groups)) * sp(p.k);
  auto x = random_vec(p.n * p.ic * sp(p.in), 1), w = random_vec(wn, 2), b = random_vec(p.oc, 3);
  std::vector<float> ref(p.n * p.oc * sp(p.out));
  (transposed ? kern::ref_kernels().conv_transpose : kern::ref_kernels().conv)(p, x.data(), w.data(), b.data(),
                                                                               ref.data());
  Dev d;
  float* y = d.out(ref.size());
  (transposed ? g_backend->kernels().conv_transpose : g_backend->kernels().conv)(p, d.up(x), d.up(w), d.up(b), y);
  expect_close(ref, d.down(y, ref.size()), what);
}

// ---- graph builders -------------------------------------------------------------------------
struct Builder {
  Graph g;
  int id = 0;
  uint32_t seed = 10;
  Tensor rnd(const Shape& s, float scale) {
    Tensor t = Tensor::empty(s);
    auto v = random_vec(s.numel(), seed++, -scale, scale);
    std::copy(v.begin(), v.end(), t.f32());
    return t;
  }
  std::string add(Node n) {
    n.outputs = {n.name};
    g.nodes.push_back(n);
    return n.name;
  }
  Node node(const std::string& op, std::vector<std::string> in) {
    Node n;
    n.name = op + std::to_string(id++);
    n.op = op;
    n.inputs = std::move(in);
    return n;
  }
  std::string conv(const std::string& x, int64_t ic, int64_t oc, int64_t k, int64_t stride = 1) {
    Node n = node("Conv", {x});
    g.weights[n.name + ".w"] = rnd(Shape{oc, ic, k, k, k}, 1.f / std::sqrt(float(ic * k * k * k)));
    g.weights[n.name + ".b"] = rnd(Shape{oc}, 0.1f);
    n.inputs.push_back(n.name + ".w");
    n.inputs.push_back(n.name + ".b");
    const int64_t p = k / 2;
    n.attrs.set_ints("pads", {p, p, p, p, p, p});
    n.attrs.set_ints("strides", {stride, stride, stride});
    return add(n);
  }
  std::string bn(const std::string& x, int64_t c) {
    Node n = node("BatchNormalization", {x});
    const char* parts[4] = {".g", ".b", ".m", ".v"};
    for (int i = 0; i < 4; ++i) {
      Tensor t = rnd(Shape{c}, 0.5f);
      if (i == 3)
        for (int64_t j = 0; j < c; ++j) t.f32()[j] = 0.5f + std::fabs(t.f32()[j]);
      g.weights[n.name + parts[i]] = t;
      n.inputs.push_back(n.name + parts[i]);
    }
    return add(n);
  }
  std::string unary(const std::string& op, const std::string& x) { return add(node(op, {x})); }
  std::string binary(const std::string& op, const std::string& a, const std::string& b) {
    return add(node(op, {a, b}));
  }
  std::string pool(const std::string& op, const std::string& x) {
    Node n = node(op, {x});
    n.attrs.set_ints("kernel_shape", {2, 2, 2});
    n.attrs.set_ints("strides", {2, 2, 2});
    return add(n);
  }
  std::string up(const std::string& x, int64_t ic, int64_t oc) {
    Node n = node("ConvTranspose", {x});
    g.weights[n.name + ".w"] = rnd(Shape{ic, oc, 2, 2, 2}, 1.f / std::sqrt(float(ic * 8)));
    n.inputs.push_back(n.name + ".w");
    n.attrs.set_ints("strides", {2, 2, 2});
    return add(n);
  }
  std::string concat(const std::string& a, const std::string& b) {
    Node n = node("Concat", {a, b});
    n.attrs.set_int("axis", 1);
    return add(n);
  }
};

Graph small_unet() {
  Builder b;
  b.g.inputs.push_back({"x", Shape{1, 1, -1, -1, -1}});
  auto block = [&](const std::string& x, int64_t ic, int64_t oc) {
    return b.unary("Relu", b.conv(b.unary("Relu", b.conv(x, ic, oc, 3)), oc, oc, 3));
  };
  const std::string e1 = block("x", 1, 8);
  const std::string e2 = block(b.pool("MaxPool", e1), 8, 16);
  const std::string bott = block(b.pool("MaxPool", e2), 16, 32);
  const std::string d2 = block(b.concat(b.up(bott, 32, 16), e2), 32, 16);
  const std::string d1 = block(b.concat(b.up(d2, 16, 8), e1), 16, 8);
  b.g.outputs.push_back(b.unary("Softmax", b.conv(d1, 8, 2, 1)));
  return b.g;
}

Graph small_resnet() {
  Builder b;
  b.g.inputs.push_back({"x", Shape{-1, 1, -1, -1, -1}});
  std::string x = b.unary("Relu", b.bn(b.conv("x", 1, 16, 7, 2), 16));
  x = b.pool("MaxPool", x);
  int64_t c = 16;
  for (int64_t oc : {16, 32, 64}) {
    const int64_t stride = oc == c ? 1 : 2;
    std::string y = b.unary("Relu", b.bn(b.conv(x, c, oc, 3, stride), oc));
    y = b.bn(b.conv(y, oc, oc, 3), oc);
    const std::string skip = oc == c && stride == 1 ? x : b.bn(b.conv(x, c, oc, 1, stride), oc);
    x = b.unary("Relu", b.binary("Add", y, skip));
    c = oc;
  }
  x = b.add(b.node("GlobalAveragePool", {x}));
  Node f = b.node("Flatten", {x});
  x = b.add(f);
  Node fc = b.node("Gemm", {x});
  b.g.weights[fc.name + ".w"] = b.rnd(Shape{3, c}, 0.2f);
  b.g.weights[fc.name + ".b"] = b.rnd(Shape{3}, 0.1f);
  fc.inputs.push_back(fc.name + ".w");
  fc.inputs.push_back(fc.name + ".b");
  fc.attrs.set_int("transB", 1);
  b.g.outputs.push_back(b.unary("Sigmoid", b.add(fc)));
  return b.g;
}

void check_graph(const Graph& graph, const Shape& in_shape, const std::string& what) {
  auto g = std::make_shared<const Graph>(graph);
  Executor cpu(g, kern::ref_kernels());
  Executor gpu(g, g_backend);
  Tensor x = Tensor::empty(in_shape);
  auto v = random_vec(in_shape.numel(), 99);
  std::copy(v.begin(), v.end(), x.f32());
  for (int run = 0; run < 2; ++run) {  // the second run reuses the arena, weights and plans
    auto ref = cpu.run({x});
    auto got = gpu.run({x});
    REQUIRE(ref.size() == got.size());
    for (size_t i = 0; i < ref.size(); ++i) {
      std::vector<float> r(ref[i].f32(), ref[i].f32() + ref[i].numel()), o(got[i].f32(), got[i].f32() + got[i].numel());
      expect_close(r, o, what + " output " + std::to_string(i) + " run " + std::to_string(run));
    }
  }
}

}  // namespace

TEST_CASE("cuda: convolution 2-D/3-D, groups, dilation, padding" * doctest::skip(!have_device())) {
  g_backend->begin_run();
  int64_t sym[3] = {1, 1, 1}, zero[3] = {0, 0, 0};
  kern::ConvParams p;
  p.n = 2, p.ic = 4, p.oc = 6;
  p.in[0] = 7, p.in[1] = 9, p.in[2] = 8;
  for (int i = 0; i < 3; ++i) p.k[i] = 3, p.pad[i] = 1;
  check_conv(p, false, sym, "conv3d 3x3x3 pad 1");
  p.groups = 2;
  check_conv(p, false, sym, "conv3d groups 2");
  p.groups = 1;
  for (int i = 0; i < 3; ++i) p.dil[i] = 2, p.stride[i] = 2;
  check_conv(p, false, sym, "conv3d dilation 2 stride 2");
  int64_t asym[3] = {0, 2, 1};
  check_conv(p, false, asym, "conv3d asymmetric pads (direct)");
  kern::ConvParams q;  // 2-D: depth 1
  q.n = 1, q.ic = 3, q.oc = 5, q.in[1] = 12, q.in[2] = 10, q.k[1] = q.k[2] = 3, q.pad[1] = q.pad[2] = 1;
  int64_t sym2[3] = {0, 1, 1};
  check_conv(q, false, sym2, "conv2d");
  q.groups = 1;
  check_conv(q, false, sym2, "conv2d");
  kern::ConvParams t;
  t.n = 1, t.ic = 6, t.oc = 4, t.in[0] = 4, t.in[1] = 5, t.in[2] = 3;
  for (int i = 0; i < 3; ++i) t.k[i] = 2, t.stride[i] = 2;
  check_conv(t, true, zero, "conv_transpose3d k2 s2");
  t.groups = 2;
  for (int i = 0; i < 3; ++i) t.k[i] = 3, t.pad[i] = 1;
  check_conv(t, true, sym, "conv_transpose3d groups 2 k3 pad 1");
  int64_t op[3] = {0, 1, 0};  // output_padding-like: one more voxel at the end
  check_conv(t, true, op, "conv_transpose3d asymmetric");
}

TEST_CASE("cuda: elementwise, softmax, linear" * doctest::skip(!have_device())) {
  g_backend->begin_run();
  const auto& R = kern::ref_kernels();
  const auto& K = g_backend->kernels();
  Dev d;
  const int64_t n = 1000;
  auto x = random_vec(n, 5, -4.f, 4.f);
  const kern::Unary ops[] = {kern::Unary::identity, kern::Unary::relu, kern::Unary::leaky_relu, kern::Unary::sigmoid,
                             kern::Unary::tanh};
  for (kern::Unary u : ops) {
    std::vector<float> ref(n);
    R.unary(u, 0.1f, n, x.data(), ref.data());
    float* y = d.out(n);
    K.unary(u, 0.1f, n, d.up(x), y);
    expect_close(ref, d.down(y, n), "unary " + std::to_string(int(u)));
  }
  kern::BroadcastParams bp;  // [2,3,4,5,6] op [1,3,1,1,6]
  const int64_t out[5] = {2, 3, 4, 5, 6};
  std::copy(out, out + 5, bp.out);
  const int64_t as[5] = {360, 120, 30, 6, 1}, bs[5] = {0, 6, 0, 0, 1};
  std::copy(as, as + 5, bp.a_stride);
  std::copy(bs, bs + 5, bp.b_stride);
  auto a = random_vec(720, 6), b = random_vec(18, 7, 0.5f, 2.f);
  for (kern::Binary op : {kern::Binary::add, kern::Binary::sub, kern::Binary::mul, kern::Binary::div}) {
    std::vector<float> ref(720);
    R.binary(op, bp, a.data(), b.data(), ref.data());
    float* y = d.out(720);
    K.binary(op, bp, d.up(a), d.up(b), y);
    expect_close(ref, d.down(y, 720), "binary broadcast " + std::to_string(int(op)));
  }
  {
    auto sc = random_vec(3, 8), sh = random_vec(3, 9), src = random_vec(2 * 3 * 40, 10);
    std::vector<float> ref(src.size());
    R.channel_affine(2, 3, 40, sc.data(), sh.data(), src.data(), ref.data());
    float* y = d.out(ref.size());
    K.channel_affine(2, 3, 40, d.up(sc), d.up(sh), d.up(src), y);
    expect_close(ref, d.down(y, ref.size()), "channel_affine");
  }
  {
    auto src = random_vec(2 * 5 * 33, 11, -10.f, 10.f);
    std::vector<float> ref(src.size());
    R.softmax(2, 5, 33, src.data(), ref.data());
    float* y = d.out(ref.size());
    K.softmax(2, 5, 33, d.up(src), y);
    expect_close(ref, d.down(y, ref.size()), "softmax");
  }
  {
    const int64_t m = 3, k = 37, nn = 11;
    auto xx = random_vec(m * k, 12), w = random_vec(nn * k, 13), bias = random_vec(nn, 14);
    std::vector<float> ref(m * nn);
    R.linear(m, k, nn, xx.data(), w.data(), bias.data(), ref.data());
    float* y = d.out(ref.size());
    K.linear(m, k, nn, d.up(xx), d.up(w), d.up(bias), y);
    expect_close(ref, d.down(y, ref.size()), "linear");
    float* y2 = d.out(ref.size());
    R.linear(m, k, nn, xx.data(), w.data(), nullptr, ref.data());
    K.linear(m, k, nn, d.up(xx), d.up(w), nullptr, y2);
    expect_close(ref, d.down(y2, ref.size()), "linear without bias");
  }
}

TEST_CASE("cuda: pool, adaptive pool, resize, pad, copy" * doctest::skip(!have_device())) {
  g_backend->begin_run();
  const auto& R = kern::ref_kernels();
  const auto& K = g_backend->kernels();
  Dev d;
  for (kern::PoolKind kind : {kern::PoolKind::max, kern::PoolKind::avg})
    for (bool include_pad : {false, true}) {
      kern::PoolParams p;
      p.n = 2, p.c = 3, p.kind = kind, p.count_include_pad = include_pad;
      const int64_t in[3] = {7, 8, 9};
      for (int i = 0; i < 3; ++i) {
        p.in[i] = in[i], p.k[i] = 3, p.stride[i] = 2, p.pad[i] = 1;
        p.out[i] = (in[i] + 2 - 3) / 2 + 1;
      }
      auto x = random_vec(p.n * p.c * sp(p.in), 20);
      std::vector<float> ref(p.n * p.c * sp(p.out));
      R.pool(p, x.data(), ref.data());
      float* y = d.out(ref.size());
      K.pool(p, d.up(x), y);
      expect_close(ref, d.down(y, ref.size()), "pool");
    }
  for (kern::PoolKind kind : {kern::PoolKind::max, kern::PoolKind::avg}) {
    kern::AdaptivePoolParams p;
    p.n = 2, p.c = 3, p.kind = kind;
    const int64_t in[3] = {7, 10, 5}, out[3] = {3, 4, 1};
    std::copy(in, in + 3, p.in);
    std::copy(out, out + 3, p.out);
    auto x = random_vec(p.n * p.c * sp(p.in), 21);
    std::vector<float> ref(p.n * p.c * sp(p.out));
    R.adaptive_pool(p, x.data(), ref.data());
    float* y = d.out(ref.size());
    K.adaptive_pool(p, d.up(x), y);
    expect_close(ref, d.down(y, ref.size()), "adaptive_pool");
  }
  for (int mode = 0; mode < 3; ++mode) {
    kern::ResizeParams p;
    p.n = 1, p.c = 2;
    p.mode = mode == 0 ? kern::ResizeMode::nearest : kern::ResizeMode::linear;
    p.align_corners = mode == 2;
    const int64_t in[3] = {4, 5, 6}, out[3] = {8, 7, 13};
    for (int i = 0; i < 3; ++i) p.in[i] = in[i], p.out[i] = out[i], p.ratio[i] = double(in[i]) / double(out[i]);
    auto x = random_vec(p.n * p.c * sp(p.in), 22);
    std::vector<float> ref(p.n * p.c * sp(p.out));
    R.resize(p, x.data(), ref.data());
    float* y = d.out(ref.size());
    K.resize(p, d.up(x), y);
    expect_close(ref, d.down(y, ref.size()), "resize mode " + std::to_string(mode));
  }
  for (kern::PadMode mode : {kern::PadMode::constant, kern::PadMode::reflect, kern::PadMode::edge}) {
    kern::PadParams p;
    p.nc = 3, p.mode = mode, p.value = 0.5f;
    const int64_t in[3] = {4, 5, 6}, begin[3] = {1, -1, 2}, end[3] = {2, 1, -1};
    for (int i = 0; i < 3; ++i) p.in[i] = in[i], p.begin[i] = begin[i], p.out[i] = in[i] + begin[i] + end[i];
    auto x = random_vec(p.nc * sp(p.in), 23);
    std::vector<float> ref(p.nc * sp(p.out));
    R.pad(p, x.data(), ref.data());
    float* y = d.out(ref.size());
    K.pad(p, d.up(x), y);
    expect_close(ref, d.down(y, ref.size()), "pad");
  }
  {  // copy: a strided slice of [2,3,4] -> [2,2,3] contiguous
    kern::CopyParams p;
    const int64_t shape[5] = {1, 1, 2, 2, 3}, ss[5] = {0, 0, 12, 4, 1}, ds[5] = {0, 0, 6, 3, 1};
    std::copy(shape, shape + 5, p.shape), std::copy(ss, ss + 5, p.src_stride), std::copy(ds, ds + 5, p.dst_stride);
    auto x = random_vec(24, 24);
    std::vector<float> ref;
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b)
        for (int c = 0; c < 3; ++c) ref.push_back(x[a * 12 + b * 4 + c + 5]);
    float* y = d.out(12);
    K.copy(p, d.up(x) + 5, y);
    expect_close(ref, d.down(y, 12), "copy");
  }
}

TEST_CASE("cuda: small 3-D U-Net and 3-D ResNet against the CPU executor" * doctest::skip(!have_device())) {
  check_graph(small_unet(), Shape{1, 1, 16, 20, 12}, "3-D U-Net");
  check_graph(small_resnet(), Shape{2, 1, 24, 24, 24}, "3-D ResNet");
}

// The CUDA table has no backward kernels (NULL: "not on this backend", kernel_table.h), so
// Grad-CAM refuses it before running anything; a cuda session's Grad-CAM uses the host tables.
TEST_CASE("cuda: Grad-CAM on the device table fails clearly" * doctest::skip(!have_device())) {
  const kern::KernelTable& K = g_backend->kernels();
  REQUIRE(explain::missing_backward_kernel(K) != nullptr);
  Model m;
  m.graph = std::make_shared<Graph>(small_resnet());
  m.order = m.graph->topological_order();
  Tensor x = Tensor::zeros(Shape{1, 1, 24, 24, 24});
  try {
    explain::grad_cam(m, {x}, {}, K);
    FAIL("grad_cam ran on the CUDA table");
  } catch (const Error& e) {
    CHECK(e.status() == Status::unsupported);
    CHECK(std::string(e.what()).find("kernel table 'cuda'") != std::string::npos);
  }
}

// Last: runs everywhere. Without a device it checks the error path, then exits 77 (Skipped).
TEST_CASE("cuda: backend unavailable gives a clear status") {
  use_built_module();
  Builder b;
  b.g.inputs.push_back({"x", Shape{1, 1, -1, -1}});
  b.g.outputs.push_back(b.unary("Relu", "x"));
  const std::vector<uint8_t> blob = write_vxm(b.g, nlohmann::json::object());
  vx_model* m = nullptr;
  REQUIRE(vx_model_load_memory(blob.data(), blob.size(), nullptr, &m) == VX_OK);
  vx_session_options so;
  CHECK(vx_session_options_init(&so) == VX_OK);
  so.backend = "cuda";
  vx_session* s = nullptr;
  const vx_status st = vx_session_create(m, &so, &s);
  if (have_device()) {
    CHECK(st == VX_OK);
    CHECK(vx_session_free(s) == VX_OK);
    so.device_index = 4096;  // vx_session_options version 2: out of range
    CHECK(vx_session_create(m, &so, &s) == VX_ERR_BACKEND_UNAVAILABLE);
    CHECK(std::string(vx_last_error()).find("out of range") != std::string::npos);
    so.device_index = -1;  // the default: $VOXINFER_CUDA_DEVICE
    setenv("VOXINFER_CUDA_DEVICE", "1000", 1);  // out of range
    CHECK(vx_session_create(m, &so, &s) == VX_ERR_BACKEND_UNAVAILABLE);
    so.struct_size = VX_SESSION_OPTIONS_SIZE_V1;  // a version-1 caller gets the variable too
    CHECK(vx_session_create(m, &so, &s) == VX_ERR_BACKEND_UNAVAILABLE);
    unsetenv("VOXINFER_CUDA_DEVICE");
    CHECK(vx_model_free(m) == VX_OK);
    return;
  }
  const std::string msg = vx_last_error();
  const bool clear = st == VX_ERR_BACKEND_UNAVAILABLE && s == nullptr && msg.find("cuda") != std::string::npos &&
                     msg.size() > 20;
  CHECK(st == VX_ERR_BACKEND_UNAVAILABLE);
  CHECK(s == nullptr);
  CHECK(msg.find("cuda") != std::string::npos);
  CHECK(vx_model_free(m) == VX_OK);
  if (!clear) return;  // a real failure: let doctest report it
  std::printf("SKIPPED: %s\n", g_reason.c_str());
  std::fflush(stdout);
  std::exit(77);
}
