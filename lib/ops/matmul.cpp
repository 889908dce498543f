// MatMul (ONNX = numpy matmul): A [..., M, K] . B [..., K, N] -> [..., M, N]. The leading
// (batch) dimensions broadcast numpy-style; a 1-D A is taken as [1, K] and a 1-D B as [K, 1],
// and that axis is dropped from the result. Each product runs through kern.linear (Eigen on
// the CPU, multi-threaded as the engine sets Eigen up), which wants the right operand as
// [N, K]: each distinct B matrix is transposed once per run (K*N against the product's
// M*K*N). When B is one matrix for every batch, A's batches fold into M: one call.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "graph/op.h"
#include "ops/device_buffer.h"
#include "ops/registry.h"

namespace vx {
namespace {

struct MatMulDims {
  int64_t m = 0, k = 0, n = 0;
  Shape batch, a_batch, b_batch;  // broadcast batch dims, and A's and B's padded with 1s
  Shape out;
  int64_t batches() const { return batch.numel(); }
};

MatMulDims matmul_dims(const std::vector<Shape>& in) {
  if (in.size() != 2 || in[0].rank < 1 || in[1].rank < 1)
    fail(Status::invalid_argument, "MatMul takes A and B, each at least 1-D");
  const Shape &a = in[0], &b = in[1];
  MatMulDims d;
  d.m = a.rank == 1 ? 1 : a[a.rank - 2];
  d.k = a[a.rank - 1];
  const int64_t bk = b.rank == 1 ? b[0] : b[b.rank - 2];
  d.n = b.rank == 1 ? 1 : b[b.rank - 1];
  if (bk != d.k)
    fail(Status::shape_mismatch, "inner dimensions disagree: A " + a.str() + " has K = " + std::to_string(d.k) +
                                     ", B " + b.str() + " has " + std::to_string(bk));
  const int ar = std::max(a.rank - 2, 0), br = std::max(b.rank - 2, 0), r = std::max(ar, br);
  d.batch.rank = d.a_batch.rank = d.b_batch.rank = r;
  for (int i = 0; i < r; ++i) {
    const int ia = i - (r - ar), ib = i - (r - br);
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      fail(Status::shape_mismatch, "batch dimensions of A " + a.str() + " and B " + b.str() + " do not broadcast");
    d.a_batch[i] = da;
    d.b_batch[i] = db;
    d.batch[i] = da == 1 ? db : da;
  }
  d.out = d.batch;
  if (a.rank > 1) d.out[d.out.rank++] = d.m;
  if (b.rank > 1) d.out[d.out.rank++] = d.n;
  return d;
}

// Offset (in matrices) of output batch `i` in an operand whose batch dims are `own`.
int64_t batch_offset(const Shape& batch, const Shape& own, int64_t i) {
  int64_t off = 0, stride = 1;
  for (int d = batch.rank - 1; d >= 0; --d) {
    const int64_t idx = i % batch[d];
    i /= batch[d];
    if (own[d] != 1) off += idx * stride;
    stride *= own[d];
  }
  return off;
}

// B [K, N] (row-major) as [N, K].
void transpose_kn(const float* b, int64_t k, int64_t n, float* bt) {
  for (int64_t t = 0; t < k; ++t)
    for (int64_t j = 0; j < n; ++j) bt[j * k + t] = b[t * n + j];
}

std::vector<Shape> shapes_of(const std::vector<const Tensor*>& in) {
  std::vector<Shape> s;
  for (const Tensor* t : in) {
    Shape sh = t->shape();
    if (!t->defined()) sh.rank = -1;
    s.push_back(sh);
  }
  return s;
}

// Device kernel tables: the transposed B of the last run, kept until the next run.
struct MatMulDeviceState : OpState {
  std::unique_ptr<DeviceBuffer> w;
};

class MatMulOp : public OpDef {
 public:
  std::vector<Shape> infer(const Node&, const std::vector<Shape>& in) const override { return {matmul_dims(in).out}; }

  void run(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    const MatMulDims d = matmul_dims(shapes_of(in));
    const int64_t mk = d.m * d.k, kn = d.k * d.n, mn = d.m * d.n;
    std::vector<float> bt(static_cast<size_t>(kn));
    if (const kern::DeviceMemory* mem = ctx.kernels.memory) {
      if (d.b_batch.numel() != 1 || d.a_batch != d.batch)
        fail(Status::unsupported, "MatMul on a device takes one right-hand matrix, got " + in[1]->shape().str());
      std::vector<float> b = download(*mem, *in[1]);
      transpose_kn(b.data(), d.k, d.n, bt.data());
      auto s = std::make_unique<MatMulDeviceState>();
      s->w = std::make_unique<DeviceBuffer>(*mem, bt);
      ctx.kernels.linear(d.m * d.batches(), d.k, d.n, in[0]->f32(), s->w->get(), nullptr, out[0]->f32());
      ctx.state = std::move(s);
      return;
    }
    const float *a = in[0]->f32(), *b = in[1]->f32();
    float* y = out[0]->f32();
    if (d.b_batch.numel() == 1 && d.a_batch == d.batch) {  // one B: A's batches are rows
      transpose_kn(b, d.k, d.n, bt.data());
      ctx.kernels.linear(d.m * d.batches(), d.k, d.n, a, bt.data(), nullptr, y);
      return;
    }
    int64_t last_b = -1;
    for (int64_t i = 0; i < d.batches(); ++i) {
      const int64_t ao = batch_offset(d.batch, d.a_batch, i), bo = batch_offset(d.batch, d.b_batch, i);
      if (bo != last_b) transpose_kn(b + bo * kn, d.k, d.n, bt.data());
      last_b = bo;
      ctx.kernels.linear(d.m, d.k, d.n, a + ao * mk, bt.data(), nullptr, y + i * mn);
    }
  }

  // Rows of A times one weight matrix keep samples apart; so do two activations whose
  // batch axis (axis 0, rank >= 3 on both) is a broadcast batch dimension of the product.
  bool keeps_samples_apart(const Node& n, const BatchQuery& q) const override {
    const auto sa = q.shapes.find(n.inputs.at(0)), sb = q.shapes.find(n.inputs.at(1));
    if (sa == q.shapes.end() || sb == q.shapes.end() || sa->second.rank < 2) return false;
    if (q.is_weight(n.inputs[1])) return sb->second.rank == 2 || q.constant_operand_per_sample(n);
    return sa->second.rank >= 3 && sb->second.rank == sa->second.rank;
  }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, linear), VX_KERNEL_USE(t, linear_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  Gradient gradient() const override { return Gradient::rule; }

  // dA_i = dY_i . B_i^T and dB_i = A_i^T . dY_i, summed over the batches an operand broadcast to.
  void backward(const Node& n, BackwardContext& ctx) const override {
    const Shape as = ctx.shape(n.inputs[0]), bs = ctx.shape(n.inputs[1]);
    const MatMulDims d = matmul_dims({as, bs});
    const int64_t mk = d.m * d.k, kn = d.k * d.n, mn = d.m * d.n;
    const Tensor a = ctx.value(n.inputs[0]), b = ctx.value(n.inputs[1]);
    const float* dy = ctx.dy().f32();
    const bool want_a = ctx.wants(0), want_b = ctx.wants(1);
    Tensor da = want_a ? Tensor::zeros(as) : Tensor(), db = want_b ? Tensor::zeros(bs) : Tensor();
    std::vector<float> bt(static_cast<size_t>(kn)), at(static_cast<size_t>(mk)), tmp(static_cast<size_t>(std::max(mk, kn)));
    for (int64_t i = 0; i < d.batches(); ++i) {
      const int64_t ao = batch_offset(d.batch, d.a_batch, i), bo = batch_offset(d.batch, d.b_batch, i);
      if (want_a) {  // linear_backward: dx [M,K] = dy [M,N] . w [N,K], w = B^T
        transpose_kn(b.f32() + bo * kn, d.k, d.n, bt.data());
        ctx.kernels().linear_backward(d.m, d.k, d.n, dy + i * mn, bt.data(), tmp.data());
        float* dst = da.f32() + ao * mk;
        for (int64_t e = 0; e < mk; ++e) dst[e] += tmp[e];
      }
      if (want_b) {  // dB [K,N] = A^T [K,M] . dY [M,N]
        transpose_kn(a.f32() + ao * mk, d.m, d.k, at.data());
        ctx.kernels().linear_backward(d.k, d.n, d.m, at.data(), dy + i * mn, tmp.data());
        float* dst = db.f32() + bo * kn;
        for (int64_t e = 0; e < kn; ++e) dst[e] += tmp[e];
      }
    }
    if (want_a) ctx.accumulate(0, da);
    if (want_b) ctx.accumulate(1, db);
  }
};

}  // namespace

void register_matmul(OpRegistry& r) { r.add("MatMul", std::make_unique<MatMulOp>()); }

}  // namespace vx
