#include "cpu/cpu_kernels.h"
#include "kernel_table.h"

namespace vx::kern {

std::vector<const KernelTable*> kernel_tables() {
  std::vector<const KernelTable*> t{&ref_kernels()};
  // Fast backends append their tables here when the CPU supports them (and VX_MAX_ISA allows).
  for (cpu::Isa level : {cpu::Isa::scalar, cpu::Isa::avx512})
    if (const KernelTable* c = cpu::cpu_kernels(level)) t.push_back(c);
  return t;
}

namespace {
class BoundConv : public PreparedConv {
 public:
  BoundConv(ConvFusedFn fn, const ConvParams& p, const ConvPostOps& post, const float* wei, const float* bias)
      : fn_(fn), p_(p), post_(post), wei_(wei), bias_(bias) {}
  void run(const float* src, const float* residual, float* dst) const override {
    fn_(p_, post_, src, wei_, bias_, post_.has_residual ? residual : nullptr, dst);
  }

 private:
  ConvFusedFn fn_;
  ConvParams p_;
  ConvPostOps post_;
  const float *wei_, *bias_;
};
}  // namespace

std::shared_ptr<const PreparedConv> bind_conv(ConvFusedFn fn, const ConvParams& p, const ConvPostOps& post,
                                              const float* wei, const float* bias) {
  return std::make_shared<BoundConv>(fn, p, post, wei, bias);
}

const KernelTable& default_kernels() { return *kernel_tables().back(); }

void run_conv_fused(const KernelTable& t, const ConvParams& p, const ConvPostOps& post, const float* src,
                    const float* wei, const float* bias, const float* residual, float* dst) {
  if (t.conv_fused) return t.conv_fused(p, post, src, wei, bias, residual, dst);
  const int64_t count = p.n * p.oc * p.out[0] * p.out[1] * p.out[2];
  std::vector<float> saved;  // dst planned over the residual: the convolution below overwrites it
  if (post.has_residual && residual == dst) {
    saved.assign(residual, residual + count);
    residual = saved.data();
  }
  t.conv(p, src, wei, bias, dst);
  if (post.has_residual) {
    BroadcastParams b;
    b.out[4] = count;
    b.a_stride[4] = b.b_stride[4] = 1;
    t.binary(Binary::add, b, dst, residual, dst);
  }
  if (post.act != Unary::identity) t.unary(post.act, post.alpha, count, dst, dst);
}

}  // namespace vx::kern
