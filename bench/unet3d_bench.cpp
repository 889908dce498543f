// A 3-D U-Net forward pass on the default kernel table: 4 levels, base 16 channels
// (16/32/64/128), two conv3x3x3 + BN + ReLU per level, 2x2x2 max-pool down, transposed
// conv k2 s2 up, skip concatenation, 1x1x1 head to 2 classes, batch 1, 1 input channel.
// BatchNorm is folded into the conv weights and bias (as an inference engine does) and ReLU
// runs as a oneDNN post-op (fused conv). Concatenation is free: the encoder's second conv
// and the transposed conv write straight into the two halves of the decoder's input.
// Built from kernel calls rather than a graph because the graph ops for pooling, transposed
// conv and concat are not in this branch yet; bench/torch_compare.py --unet runs the same
// network in PyTorch (eval mode, BN not folded, same thread count).
//   OMP_NUM_THREADS=2 ./build/bench/unet3d_bench --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "kernel_table.h"

using namespace vx::kern;

namespace {

struct Buf {
  std::vector<float> v;
  explicit Buf(int64_t n = 0) : v(n) {}
  float* p() { return v.data(); }
};

std::vector<float> rnd(int64_t n, float scale, uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

struct Layer {  // conv with folded BN: weights and bias
  ConvParams p;
  std::vector<float> w, b;
  bool transpose = false;
};

Layer conv3(int64_t ic, int64_t oc, int64_t ext, uint32_t seed, int64_t k = 3) {
  Layer l;
  l.p.ic = ic, l.p.oc = oc;
  for (int i = 0; i < 3; ++i) l.p.in[i] = l.p.out[i] = ext, l.p.k[i] = k, l.p.pad[i] = k / 2;
  l.w = rnd(oc * ic * k * k * k, 1.f / std::sqrt(float(ic * k * k * k)), seed);
  l.b = rnd(oc, 0.1f, seed + 1);
  return l;
}

Layer up2(int64_t ic, int64_t oc, int64_t ext_in, uint32_t seed) {
  Layer l;
  l.transpose = true;
  l.p.ic = ic, l.p.oc = oc;
  for (int i = 0; i < 3; ++i) l.p.in[i] = ext_in, l.p.out[i] = 2 * ext_in, l.p.k[i] = l.p.stride[i] = 2;
  l.w = rnd(ic * oc * 8, 1.f / std::sqrt(float(ic)), seed);
  l.b = rnd(oc, 0.1f, seed + 1);
  return l;
}

class UNet {
 public:
  explicit UNet(int64_t size) : size_(size) {
    uint32_t seed = 1;
    int64_t c = 1, e = size;
    for (int l = 0; l < kLevels; ++l) {
      const int64_t w = kBase << l;
      enc_[l][0] = conv3(c, w, e, seed += 2);
      enc_[l][1] = conv3(w, w, e, seed += 2);
      c = w;
      if (l + 1 < kLevels) e /= 2;
    }
    for (int l = kLevels - 2; l >= 0; --l) {
      const int64_t w = kBase << l;
      e = size >> l;
      up_[l] = up2(2 * w, w, e / 2, seed += 2);
      dec_[l][0] = conv3(2 * w, w, e, seed += 2);
      dec_[l][1] = conv3(w, w, e, seed += 2);
    }
    head_ = conv3(kBase, 2, size, seed += 2, 1);
    for (int l = 0; l < kLevels; ++l) {
      const int64_t w = kBase << l, sp = vox(l);
      a_[l] = Buf(w * sp);
      cat_[l] = Buf(2 * w * sp);  // [up | skip]; level kLevels-1 uses only the second half
      pool_[l] = Buf(w * sp / 8);
    }
    out_ = Buf(2 * vox(0));
  }

  int64_t vox(int l) const { return (size_ >> l) * (size_ >> l) * (size_ >> l); }

  double gflop() const {
    double f = 0;
    auto add = [&](const Layer& L) {
      const ConvParams& p = L.p;
      const double sp = L.transpose ? double(p.in[0]) * p.in[1] * p.in[2] : double(p.out[0]) * p.out[1] * p.out[2];
      f += 2.0 * p.ic * p.oc * p.k[0] * p.k[1] * p.k[2] * sp;
    };
    for (int l = 0; l < kLevels; ++l) add(enc_[l][0]), add(enc_[l][1]);
    for (int l = 0; l < kLevels - 1; ++l) add(up_[l]), add(dec_[l][0]), add(dec_[l][1]);
    add(head_);
    return f / 1e9;
  }

  void run(const KernelTable& t, const float* x) {
    ConvPostOps relu;
    relu.act = Unary::relu;
    const float* in = x;
    for (int l = 0; l < kLevels; ++l) {
      const int64_t w = kBase << l;
      float* skip = cat_[l].p() + w * vox(l);  // second half of the decoder's concat
      run_conv_fused(t, enc_[l][0].p, relu, in, enc_[l][0].w.data(), enc_[l][0].b.data(), nullptr, a_[l].p());
      run_conv_fused(t, enc_[l][1].p, relu, a_[l].p(), enc_[l][1].w.data(), enc_[l][1].b.data(), nullptr, skip);
      if (l + 1 < kLevels) {
        PoolParams pp;
        pp.c = w;
        for (int i = 0; i < 3; ++i) pp.in[i] = size_ >> l, pp.out[i] = size_ >> (l + 1), pp.k[i] = pp.stride[i] = 2;
        t.pool(pp, skip, pool_[l].p());
        in = pool_[l].p();
      }
    }
    const float* below = cat_[kLevels - 1].p() + (kBase << (kLevels - 1)) * vox(kLevels - 1);
    for (int l = kLevels - 2; l >= 0; --l) {
      t.conv_transpose(up_[l].p, below, up_[l].w.data(), up_[l].b.data(), cat_[l].p());
      run_conv_fused(t, dec_[l][0].p, relu, cat_[l].p(), dec_[l][0].w.data(), dec_[l][0].b.data(), nullptr, a_[l].p());
      float* o = cat_[l].p() + (kBase << l) * vox(l);  // the skip half is free again
      run_conv_fused(t, dec_[l][1].p, relu, a_[l].p(), dec_[l][1].w.data(), dec_[l][1].b.data(), nullptr, o);
      below = o;
    }
    t.conv(head_.p, below, head_.w.data(), head_.b.data(), out_.p());
  }

 private:
  static constexpr int kLevels = 4;
  static constexpr int64_t kBase = 16;
  int64_t size_;
  Layer enc_[kLevels][2], dec_[kLevels][2], up_[kLevels], head_;
  Buf a_[kLevels], cat_[kLevels], pool_[kLevels], out_;
};

void BM_unet3d(benchmark::State& state) {
  const int64_t size = state.range(0);
  UNet net(size);
  const auto x = rnd(size * size * size, 1.f, 7);
  const KernelTable& t = default_kernels();
  net.run(t, x.data());  // creates and caches the primitives
  for (auto _ : state) net.run(t, x.data());
  state.counters["GFLOP/s"] = benchmark::Counter(net.gflop() * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["GFLOP"] = net.gflop();
  state.SetLabel(t.name);
}
BENCHMARK(BM_unet3d)->Arg(96)->Arg(128)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
