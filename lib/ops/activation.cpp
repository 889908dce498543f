// Elementwise activations and math of the field's networks (issue 18): Elu{alpha},
// Selu{alpha, gamma}, HardSigmoid{alpha, beta}, HardSwish, Softplus, Erf, Gelu (exact erf
// form; approximate "none"), Clip{min, max} (the converter turns ONNX's constant min/max
// inputs into these attributes), Exp, Log, Sqrt, Neg, Abs and Pow{exponent} (a constant
// scalar exponent, ditto), as ONNX defines them; kernels: the `activation` table entries.
#include <cfloat>
#include <cmath>

#include "graph/op.h"
#include "ops/registry.h"

namespace vx {
namespace {

using kern::Activation;

class ActivationOp : public OpDef {
 public:
  ActivationOp(Activation kind, bool stage) : kind_(kind), stage_(stage) {}

  std::vector<Shape> infer(const Node& n, const std::vector<Shape>& in) const override {
    if (in.size() != 1 || in[0].rank < 0) {
      if (kind_ == Activation::pow)
        fail(Status::invalid_argument, "takes exactly one input (the exponent must be a constant scalar, given as "
                                       "the attribute 'exponent')");
      if (kind_ == Activation::clip)
        fail(Status::invalid_argument, "takes exactly one input (min and max must be constants, given as the "
                                       "attributes 'min' and 'max')");
      fail(Status::invalid_argument, "takes exactly one input");
    }
    const kern::ActivationParams p = params(n);
    if (kind_ == Activation::pow && !n.attrs.has("exponent"))
      fail(Status::invalid_argument, "needs the attribute 'exponent' (a constant scalar)");
    if (kind_ == Activation::clip && !(p.a <= p.b))
      fail(Status::invalid_argument, "min " + std::to_string(p.a) + " is greater than max " + std::to_string(p.b));
    if (kind_ == Activation::gelu && n.attrs.get_str("approximate", "none") != "none")
      fail(Status::unsupported, "approximate '" + n.attrs.get_str("approximate", "none") +
                                    "' is not supported (only the exact erf form, 'none')");
    if (!std::isfinite(p.a) && kind_ != Activation::clip)
      fail(Status::invalid_argument, "its constant is not finite");
    return {in[0]};
  }
  void run(const Node& n, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    ctx.kernels.activation(params(n), in[0]->numel(), in[0]->f32(), out[0]->f32());
  }
  bool keeps_samples_apart(const Node& n, const BatchQuery& q) const override {
    return q.constant_operand_per_sample(n);
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, activation), VX_KERNEL_USE(t, activation_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  ExplainTraits explain_traits() const override {
    ExplainTraits e;
    e.stage = stage_;
    return e;
  }
  Gradient gradient() const override { return Gradient::rule; }
  void backward(const Node& n, BackwardContext& ctx) const override {
    Tensor dx = Tensor::empty(ctx.shape(n.inputs[0]));
    ctx.kernels().activation_backward(params(n), dx.numel(), ctx.value(n.inputs[0]).f32(),
                                      ctx.value(n.outputs[0]).f32(), ctx.dy().f32(), dx.f32());
    ctx.accumulate(0, dx);
  }

 private:
  // The node's constants with ONNX's defaults.
  kern::ActivationParams params(const Node& n) const {
    kern::ActivationParams p;
    p.op = kind_;
    const auto f = [&](const char* k, double def) { return static_cast<float>(n.attrs.get_float(k, def)); };
    switch (kind_) {
      case Activation::elu: p.a = f("alpha", 1.0); break;
      case Activation::selu:
        p.a = f("alpha", 1.67326319217681884765625);
        p.b = f("gamma", 1.05070102214813232421875);
        break;
      case Activation::hard_sigmoid: p.a = f("alpha", 0.2), p.b = f("beta", 0.5); break;
      case Activation::hard_swish: p.a = 1.f / 6.f, p.b = 0.5f; break;
      case Activation::clip: p.a = f("min", -FLT_MAX), p.b = f("max", FLT_MAX); break;
      case Activation::pow: p.a = f("exponent", 1.0); break;
      default: break;
    }
    return p;
  }
  Activation kind_;
  bool stage_;  // an activation of a conv stage (Grad-CAM's default layer follows it)
};

}  // namespace

void register_activation(OpRegistry& r) {
  const auto add = [&](const char* name, Activation a, bool stage) {
    r.add(name, std::make_unique<ActivationOp>(a, stage));
  };
  add("Elu", Activation::elu, true);
  add("Selu", Activation::selu, true);
  add("HardSigmoid", Activation::hard_sigmoid, true);
  add("HardSwish", Activation::hard_swish, true);
  add("Softplus", Activation::softplus, true);
  add("Gelu", Activation::gelu, true);
  add("Clip", Activation::clip, true);
  add("Erf", Activation::erf, false);
  add("Exp", Activation::exp, false);
  add("Log", Activation::log, false);
  add("Sqrt", Activation::sqrt, false);
  add("Neg", Activation::neg, false);
  add("Abs", Activation::abs, false);
  add("Pow", Activation::pow, false);
}

}  // namespace vx
