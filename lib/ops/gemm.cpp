// Gemm: Y = alpha * A . op(B) + beta * C (ONNX), A [M,K] (transA must be 0), B [K,N] or [N,K]
// with transB = 1, optional C with N values ([N], [1,N]) or one value (batched MatMul is lib/ops/matmul.cpp).
// It runs through kern.linear, which wants the weight as [N,K]; B is rearranged (and scaled
// by alpha) per run, which costs K*N against the product's M*K*N, unless it is already that
// (transB = 1, alpha = 1: PyTorch's Linear) and in host memory: then it is read in place,
// with no copy the size of the weight (8 MB for ResNet-50's classifier).
#include <vector>

#include "graph/op.h"
#include "ops/device_buffer.h"
#include "ops/registry.h"

namespace vx {
namespace {

struct GemmDims {
  int64_t m = 0, k = 0, n = 0;
  bool trans_b = false;
};

GemmDims gemm_dims(const Node& node, const std::vector<Shape>& in) {
  if (in.size() < 2 || in.size() > 3u || in[0].rank < 0 || in[1].rank < 0)
    fail(Status::invalid_argument, "Gemm takes A, B and an optional C");
  if (in[0].rank != 2 || in[1].rank != 2)
    fail(Status::shape_mismatch, "only 2-D operands are supported, got " + in[0].str() + " and " + in[1].str());
  GemmDims d;
  if (node.attrs.get_int("transA", 0) != 0) fail(Status::unsupported, "transA must be 0");
  const int64_t tb = node.attrs.get_int("transB", 0);
  if (tb != 0 && tb != 1) fail(Status::invalid_argument, "transB must be 0 or 1");
  d.trans_b = tb == 1;
  d.m = in[0][0];
  d.k = in[0][1];
  const int64_t bk = d.trans_b ? in[1][1] : in[1][0];
  d.n = d.trans_b ? in[1][0] : in[1][1];
  if (bk != d.k)
    fail(Status::shape_mismatch, "A " + in[0].str() + " and B " + in[1].str() + " (transB " +
                                     std::to_string(int(d.trans_b)) + ") disagree on K");
  if (in.size() == 3 && in[2].rank >= 0) {
    const int64_t c = in[2].numel();
    if (!(c == 1 || (c == d.n && in[2][in[2].rank - 1] == d.n)) || in[2].rank > 2)
      fail(Status::unsupported, "C " + in[2].str() + " must have " + std::to_string(d.n) + " values or one");
  }
  return d;
}

// Device kernel tables only: the rearranged weight and bias of the last run, kept until the
// next run replaces them (the product reads them asynchronously). Rebuilt every run, as on
// the host, because B may be an activation whose buffer is reused with new contents.
struct GemmDeviceState : OpState {
  std::unique_ptr<DeviceBuffer> w, bias;
};

class GemmOp : public OpDef {
 public:
  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    GemmDims d = gemm_dims(node, in);
    return {Shape{d.m, d.n}};
  }
  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    std::vector<Shape> shapes;
    for (const Tensor* t : in) {
      Shape s = t->shape();
      if (!t->defined()) s.rank = -1;
      shapes.push_back(s);
    }
    GemmDims d = gemm_dims(node, shapes);
    const float alpha = static_cast<float>(node.attrs.get_float("alpha", 1.0));
    const float beta = static_cast<float>(node.attrs.get_float("beta", 1.0));
    const kern::DeviceMemory* mem = ctx.kernels.memory;
    const bool has_c = in.size() == 3 && in[2]->defined();
    std::vector<float> b_host, c_host;
    if (mem) b_host = download(*mem, *in[1]);
    if (mem && has_c) c_host = download(*mem, *in[2]);
    const float* b = mem ? b_host.data() : in[1]->f32();
    const bool in_place = !mem && d.trans_b && alpha == 1.f;
    std::vector<float> w(in_place ? 0 : static_cast<size_t>(d.n * d.k));
    if (!in_place)
      for (int64_t j = 0; j < d.n; ++j)
        for (int64_t t = 0; t < d.k; ++t) w[j * d.k + t] = alpha * (d.trans_b ? b[j * d.k + t] : b[t * d.n + j]);
    std::vector<float> bias;
    if (has_c) {
      const float* c = mem ? c_host.data() : in[2]->f32();
      const bool one = in[2]->numel() == 1;
      bias.resize(static_cast<size_t>(d.n));
      for (int64_t j = 0; j < d.n; ++j) bias[j] = beta * c[one ? 0 : j];
    }
    if (mem) {  // keep the rearranged operands on the device for the next runs
      auto s = std::make_unique<GemmDeviceState>();
      s->w = std::make_unique<DeviceBuffer>(*mem, w);
      if (!bias.empty()) s->bias = std::make_unique<DeviceBuffer>(*mem, bias);
      ctx.kernels.linear(d.m, d.k, d.n, in[0]->f32(), s->w->get(), s->bias ? s->bias->get() : nullptr,
                         out[0]->f32());
      ctx.state = std::move(s);
      return;
    }
    ctx.kernels.linear(d.m, d.k, d.n, in[0]->f32(), in_place ? b : w.data(), bias.empty() ? nullptr : bias.data(),
                       out[0]->f32());
  }

  // Gemm of an activation by a weight keeps each row (sample) apart.
  bool keeps_samples_apart(const Node& node, const BatchQuery& q) const override {
    return node.attrs.get_int("transA", 0) == 0 && q.is_weight(node.inputs.at(1));
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, linear), VX_KERNEL_USE(t, linear_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& n, BackwardContext& ctx) const override {
    const Shape as = ctx.shape(n.inputs[0]), bs = ctx.shape(n.inputs[1]);
    if (as.rank != 2 || bs.rank != 2)
      fail(Status::unsupported, "backward of " + n.op + " supports 2-D operands only, got " + as.str());
    if (n.attrs.get_int("transA", 0)) fail(Status::unsupported, "backward of Gemm with transA=1");
    const bool trans_b = n.attrs.get_int("transB", 0) != 0;
    const float alpha = static_cast<float>(n.attrs.get_float("alpha", 1.0));
    const int64_t m = as[0], kk = as[1], nn = ctx.shape(n.outputs[0])[1];
    Tensor bw = ctx.value(n.inputs[1]);
    std::vector<float> wt;  // B as [N, K]
    const float* w = bw.f32();
    if (!trans_b) {
      wt.resize(static_cast<size_t>(nn * kk));
      for (int64_t i = 0; i < kk; ++i)
        for (int64_t j = 0; j < nn; ++j) wt[j * kk + i] = w[i * nn + j];
      w = wt.data();
    }
    Tensor dx = Tensor::empty(as);
    ctx.kernels().linear_backward(m, kk, nn, ctx.dy().f32(), w, dx.f32());
    if (alpha != 1.f)
      for (int64_t i = 0; i < dx.numel(); ++i) dx.f32()[i] *= alpha;
    ctx.accumulate(0, dx);
  }
};

}  // namespace

void register_gemm(OpRegistry& r) {
  r.add("Gemm", std::make_unique<GemmOp>());
}

}  // namespace vx
