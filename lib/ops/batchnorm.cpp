// BatchNormalization (inference): ONNX semantics. Inputs X [N,C,...] (rank 2 to 5), scale,
// B, mean, var (each [C]); attribute epsilon (default 1e-5). The per-channel scale and shift
// are folded once per session into an OpState, then applied by kern.channel_affine.
#include <cmath>

#include "graph/op.h"
#include "ops/device_buffer.h"
#include "ops/registry.h"

namespace vx {
namespace {

struct BatchNormState : OpState {
  const void* sources[4] = {nullptr, nullptr, nullptr, nullptr};  // the parameters it was folded from
  std::vector<float> scale, shift;
  std::unique_ptr<DeviceBuffer> dev_scale, dev_shift;  // device kernel tables only
};

class BatchNormOp : public OpDef {
 public:
  std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const override {
    if (in.size() != 5)
      fail(Status::invalid_argument, "BatchNormalization takes X, scale, B, mean and var");
    for (const auto& s : in)
      if (s.rank < 0) fail(Status::invalid_argument, "BatchNormalization inputs are all required");
    if (in[0].rank < 2) fail(Status::shape_mismatch, "input must be [N, C, ...], got " + in[0].str());
    const int64_t c = in[0][1];
    const char* names[4] = {"scale", "B", "mean", "var"};
    for (int i = 1; i < 5; ++i)
      if (in[i].rank != 1 || in[i][0] != c)
        fail(Status::shape_mismatch, std::string(names[i - 1]) + " " + in[i].str() + " must have " +
                                         std::to_string(c) + " values (one per channel)");
    if (node.attrs.get_int("training_mode", 0) != 0)
      fail(Status::unsupported, "training_mode is not supported (inference only)");
    if (!(node.attrs.get_float("epsilon", 1e-5) >= 0)) fail(Status::invalid_argument, "epsilon must be >= 0");
    return {in[0]};
  }

  void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    const Shape& x = in[0]->shape();
    const int64_t c = x[1];
    auto* st = dynamic_cast<BatchNormState*>(ctx.state.get());
    bool fresh = st != nullptr;
    for (int i = 0; fresh && i < 4; ++i) fresh = st->sources[i] == in[i + 1]->raw();
    if (!fresh) {
      // Folded in double, then rounded: y = x * (g / sqrt(v + eps)) + (b - m * g / sqrt(v + eps)).
      auto s = std::make_unique<BatchNormState>();
      const double eps = node.attrs.get_float("epsilon", 1e-5);
      const kern::DeviceMemory* mem = ctx.kernels.memory;
      std::vector<float> host[4];
      for (int i = 0; mem && i < 4; ++i) host[i] = download(*mem, *in[i + 1]);
      const float* g = mem ? host[0].data() : in[1]->f32();
      const float* b = mem ? host[1].data() : in[2]->f32();
      const float* m = mem ? host[2].data() : in[3]->f32();
      const float* v = mem ? host[3].data() : in[4]->f32();
      s->scale.resize(c);
      s->shift.resize(c);
      for (int64_t i = 0; i < c; ++i) {
        const double k = g[i] / std::sqrt(static_cast<double>(v[i]) + eps);
        s->scale[i] = static_cast<float>(k);
        s->shift[i] = static_cast<float>(b[i] - m[i] * k);
      }
      for (int i = 0; i < 4; ++i) s->sources[i] = in[i + 1]->raw();
      if (mem) {
        s->dev_scale = std::make_unique<DeviceBuffer>(*mem, s->scale);
        s->dev_shift = std::make_unique<DeviceBuffer>(*mem, s->shift);
      }
      st = s.get();
      ctx.state = std::move(s);
    }
    const float* scale = st->dev_scale ? st->dev_scale->get() : st->scale.data();
    const float* shift = st->dev_shift ? st->dev_shift->get() : st->shift.data();
    ctx.kernels.channel_affine(x[0], c, x.prod(2, x.rank), scale, shift, in[0]->f32(), out[0]->f32());
  }

  bool keeps_samples_apart(const Node& node, const BatchQuery& q) const override {
    return q.constant_operand_per_sample(node);
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, channel_affine), VX_KERNEL_USE(t, channel_affine_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  ExplainTraits explain_traits() const override {
    ExplainTraits e;
    e.stage = true;
    return e;
  }
  Gradient gradient() const override { return Gradient::rule; }
  // Inference batch norm is a per-channel scale: gamma / sqrt(var + eps).
  void backward(const Node& n, BackwardContext& ctx) const override {
    const Shape xs = ctx.shape(n.inputs[0]);
    const double eps = n.attrs.get_float("epsilon", 1e-5);
    Tensor gamma = ctx.value(n.inputs[1]), var = ctx.value(n.inputs[4]);
    std::vector<float> scale(static_cast<size_t>(xs[1]));
    for (int64_t c = 0; c < xs[1]; ++c)
      scale[c] = static_cast<float>(gamma.f32()[c] / std::sqrt(static_cast<double>(var.f32()[c]) + eps));
    Tensor dx = Tensor::empty(xs);
    ctx.kernels().channel_affine_backward(xs[0], xs[1], xs.prod(2, xs.rank), scale.data(), ctx.dy().f32(), dx.f32());
    ctx.accumulate(0, dx);
  }
};

}  // namespace

void register_batchnorm(OpRegistry& r) { r.add("BatchNormalization", std::make_unique<BatchNormOp>()); }

}  // namespace vx
