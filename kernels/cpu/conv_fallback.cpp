// Shapes oneDNN refuses: the reference kernels with post-ops; blocked operands go through
// plain copies (the reference kernels know only the plain layout). Nothing is packed.
#include <vector>

#include "cpu/onednn_common.h"
#include "ref/ref_kernels.h"

namespace vx::kern::cpu::onednn {

namespace {

class Fallback : public PreparedConv {
 public:
  Fallback(const ConvParams& p, const ConvPostOps& post, bool transpose, const float* wei, const float* bias)
      : p_(p), post_(post), transpose_(transpose), wei_(wei), bias_(bias) {}

  void run(const float* src, const float* residual, float* dst) const override {
    const ConvParams& p = p_;
    KernelTable t = ref_kernels();
    t.conv_fused = nullptr;
    if (transpose_) t.conv = t.conv_transpose;
    ConvParams q = p;
    q.src_layout = q.dst_layout = Layout::plain;
    const int64_t in_sp = p.in[0] * p.in[1] * p.in[2], out_sp = p.out[0] * p.out[1] * p.out[2];
    std::vector<float> s, d, r;
    if (p.src_layout == Layout::blocked16) {
      s.resize(static_cast<size_t>(p.n * p.ic * in_sp));
      reorder_f32__onednn_blocked16(p.n, p.ic, in_sp, Layout::blocked16, Layout::plain, src, s.data());
      src = s.data();
    }
    if (p.dst_layout == Layout::blocked16) {
      d.resize(static_cast<size_t>(p.n * p.oc * out_sp));
      if (residual) {
        r.resize(d.size());
        reorder_f32__onednn_blocked16(p.n, p.oc, out_sp, Layout::blocked16, Layout::plain, residual, r.data());
        residual = r.data();
      }
    }
    run_conv_fused(t, q, post_, src, wei_, bias_, residual, d.empty() ? dst : d.data());
    if (!d.empty()) reorder_f32__onednn_blocked16(p.n, p.oc, out_sp, Layout::plain, Layout::blocked16, d.data(), dst);
  }

 private:
  ConvParams p_;
  ConvPostOps post_;
  bool transpose_;
  const float *wei_, *bias_;
};

}  // namespace

std::shared_ptr<const PreparedConv> prepare_fallback(const ConvParams& p, const ConvPostOps& post, bool transpose,
                                                     const float* wei, const float* bias, WeightPacks*) {
  return std::make_shared<Fallback>(p, post, transpose, wei, bias);
}

}  // namespace vx::kern::cpu::onednn
