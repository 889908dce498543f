// Ops that rearrange elements without arithmetic (issue 18), ONNX semantics with constant
// attributes (weights/convert.py folds the ONNX shape inputs into them):
//   Transpose (perm, default reversed axes), Expand (shape: numpy broadcasting in both
//   directions), Tile (repeats), Split (axis, split: the parts' extents, default equal parts,
//   one per output), Where (condition, X, Y; the condition folded to a 0/1 constant by the
//   converter), Cast (to = FLOAT only: the converter folds every other Cast).
// All run through view_copy / select (kernels/view_params.h); their Grad-CAM rules through
// the adjoints view_copy_backward / select_backward.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "graph/op.h"
#include "ops/backward_util.h"
#include "ops/registry.h"

namespace vx {
namespace {

std::string ints_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

Shape shape_of(const std::vector<int64_t>& d) {
  if (d.empty() || static_cast<int>(d.size()) > kMaxRank)
    fail(Status::unsupported, "rank " + std::to_string(d.size()) + " is outside 1.." + std::to_string(kMaxRank));
  return Shape::from(d.data(), static_cast<int>(d.size()));
}

// Element strides of a contiguous tensor of shape `s`.
std::vector<int64_t> contiguous_strides(const Shape& s) {
  std::vector<int64_t> st(static_cast<size_t>(s.rank), 1);
  for (int k = s.rank - 2; k >= 0; --k) st[k] = st[k + 1] * s[k + 1];
  return st;
}

std::vector<int64_t> strides_of(const Tensor& t) {
  std::vector<int64_t> st(static_cast<size_t>(t.rank()));
  for (int k = 0; k < t.rank(); ++k) st[k] = t.stride(k);
  return st;
}

// --- Transpose
std::vector<int64_t> transpose_perm(const Node& n, int rank) {
  std::vector<int64_t> perm = n.attrs.get_ints("perm");
  if (!n.attrs.has("perm")) {
    perm.resize(static_cast<size_t>(rank));
    for (int k = 0; k < rank; ++k) perm[k] = rank - 1 - k;
  }
  if (static_cast<int>(perm.size()) != rank)
    fail(Status::invalid_argument, "perm " + ints_str(perm) + " has " + std::to_string(perm.size()) +
                                       " values for a rank-" + std::to_string(rank) + " input");
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      fail(Status::invalid_argument, "perm " + ints_str(perm) + " is not a permutation of 0.." + std::to_string(rank - 1));
    seen[p] = true;
  }
  return perm;
}

kern::ViewCopyParams transpose_params(const std::vector<int64_t>& perm, const Shape& x,
                                      const std::vector<int64_t>& xs) {
  kern::ViewCopyParams p;
  p.rank = x.rank;
  for (int k = 0; k < x.rank; ++k) {
    p.out[k] = p.src_dims[k] = x[static_cast<int>(perm[k])];
    p.src_stride[k] = xs[perm[k]];
  }
  return p;
}

// --- Expand: numpy broadcasting of x against `shape`, both aligned at the last axis.
Shape expand_shape(const Node& n, const Shape& x) {
  if (!n.attrs.has("shape")) fail(Status::invalid_argument, "attribute 'shape' is required");
  const std::vector<int64_t> s = n.attrs.get_ints("shape");
  const int r = std::max<int>(x.rank, static_cast<int>(s.size()));
  std::vector<int64_t> o(static_cast<size_t>(r));
  for (int k = 0; k < r; ++k) {
    const int i = k - (r - x.rank), j = k - (r - static_cast<int>(s.size()));
    const int64_t a = i >= 0 ? x[i] : 1, b = j >= 0 ? s[j] : 1;
    if (b < 0) fail(Status::invalid_argument, "shape " + ints_str(s) + " has a negative extent");
    if (a != b && a != 1 && b != 1)
      fail(Status::shape_mismatch, "cannot expand input " + x.str() + " to shape " + ints_str(s) + " (axis " +
                                       std::to_string(k) + ": " + std::to_string(a) + " vs " + std::to_string(b) + ")");
    o[k] = a == 1 ? b : a;
  }
  return shape_of(o);
}

kern::ViewCopyParams broadcast_params(const Shape& out, const Shape& x, const std::vector<int64_t>& xs) {
  kern::ViewCopyParams p;
  p.rank = out.rank;
  for (int k = 0; k < out.rank; ++k) {
    const int i = k - (out.rank - x.rank);
    p.out[k] = out[k];
    const bool bcast = i < 0 || x[i] == 1;
    p.src_dims[k] = bcast ? 1 : x[i];
    p.src_stride[k] = bcast ? 0 : xs[i];
  }
  return p;
}

// --- Tile
std::vector<int64_t> tile_repeats(const Node& n, const Shape& x) {
  if (!n.attrs.has("repeats")) fail(Status::invalid_argument, "attribute 'repeats' is required");
  const std::vector<int64_t> r = n.attrs.get_ints("repeats");
  if (static_cast<int>(r.size()) != x.rank)
    fail(Status::invalid_argument, "repeats " + ints_str(r) + " has " + std::to_string(r.size()) +
                                       " values for input " + x.str());
  for (int64_t v : r)
    if (v < 0) fail(Status::invalid_argument, "repeats " + ints_str(r) + " has a negative value");
  return r;
}

kern::ViewCopyParams tile_params(const std::vector<int64_t>& reps, const Shape& x, const std::vector<int64_t>& xs) {
  kern::ViewCopyParams p;
  p.rank = x.rank;
  for (int k = 0; k < x.rank; ++k) {
    p.out[k] = x[k] * reps[k];
    p.src_dims[k] = std::max<int64_t>(x[k], 1);
    p.src_stride[k] = xs[k];
  }
  return p;
}

enum class Kind { transpose, expand, tile };

// Transpose, Expand, Tile: one input, one output, one view_copy.
class CopyOp : public OpDef {
 public:
  explicit CopyOp(Kind k) : kind_(k) {}
  int max_rank() const override { return kMaxRank; }  // view_copy takes kern::kViewMaxRank

  std::vector<Shape> infer(const Node& n, const std::vector<Shape>& in) const override {
    if (in.size() != 1 || in[0].rank < 0) fail(Status::invalid_argument, "takes exactly one input");
    if (n.outputs.size() != 1) fail(Status::invalid_argument, "has exactly one output");
    const Shape& x = in[0];
    switch (kind_) {
      case Kind::transpose: {
        const auto perm = transpose_perm(n, x.rank);
        Shape o = x;
        for (int k = 0; k < x.rank; ++k) o[k] = x[static_cast<int>(perm[k])];
        return {o};
      }
      case Kind::expand: return {expand_shape(n, x)};
      case Kind::tile: {
        const auto reps = tile_repeats(n, x);
        Shape o = x;
        for (int k = 0; k < x.rank; ++k) o[k] = x[k] * reps[k];
        return {o};
      }
    }
    return {x};
  }

  kern::ViewCopyParams params(const Node& n, const Shape& x, const std::vector<int64_t>& xs, const Shape& y) const {
    switch (kind_) {
      case Kind::transpose: return transpose_params(transpose_perm(n, x.rank), x, xs);
      case Kind::expand: return broadcast_params(y, x, xs);
      case Kind::tile: return tile_params(tile_repeats(n, x), x, xs);
    }
    return {};
  }

  void run(const Node& n, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    require(ctx.kernels.view_copy != nullptr, Status::unsupported, "this kernel table has no view_copy");
    if (out[0]->numel() == 0) return;
    const Tensor& x = *in[0];
    ctx.kernels.view_copy(params(n, x.shape(), strides_of(x), out[0]->shape()), x.f32(), out[0]->f32());
  }

  // Sample i of the output is sample i of the input when axis 0 stays where it is, is not
  // tiled and is not broadcast (an Expand or a Tile to a fixed batch extent mixes samples).
  bool keeps_samples_apart(const Node& n, const BatchQuery& q) const override {
    auto x = q.shapes.find(n.inputs[0]);
    if (x == q.shapes.end() || x->second.rank != q.out_rank) return false;
    switch (kind_) {
      case Kind::transpose: {
        const auto perm = n.attrs.get_ints("perm");
        return !perm.empty() && perm[0] == 0;
      }
      case Kind::expand: {
        const auto s = n.attrs.get_ints("shape");
        return static_cast<int>(s.size()) < q.out_rank || (!s.empty() && s[0] == 1);
      }
      case Kind::tile: {
        const auto r = n.attrs.get_ints("repeats");
        return !r.empty() && r[0] == 1;
      }
    }
    return false;
  }
  Gradient gradient() const override { return Gradient::rule; }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, view_copy), VX_KERNEL_USE(t, view_copy_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }

  // Transpose: the inverse permutation; Expand / Tile: the sum over the copies of each input
  // element. Both are view_copy's adjoint.
  void backward(const Node& n, BackwardContext& ctx) const override {
    if (!ctx.wants(0)) return;
    const Shape x = ctx.shape(n.inputs[0]);
    const Tensor& dy = ctx.dy();
    Tensor dx = Tensor::empty(x);
    ctx.kernels().view_copy_backward(params(n, x, contiguous_strides(x), dy.shape()), x.numel(), dy.f32(), dx.f32());
    ctx.accumulate(0, dx);
  }

 private:
  Kind kind_;
};

// --- Split
int split_axis(const Node& n, int rank) {
  const int64_t a = n.attrs.get_int("axis", 0);
  if (a < -rank || a >= rank)
    fail(Status::invalid_argument, "axis " + std::to_string(a) + " is outside rank " + std::to_string(rank));
  return static_cast<int>(a < 0 ? a + rank : a);
}

std::vector<int64_t> split_sizes(const Node& n, const Shape& x) {
  const int axis = split_axis(n, x.rank);
  const int64_t parts = static_cast<int64_t>(n.outputs.size());
  if (parts < 1) fail(Status::invalid_argument, "Split needs at least one output");
  std::vector<int64_t> s = n.attrs.get_ints("split");
  if (!n.attrs.has("split")) {
    if (x[axis] % parts)
      fail(Status::shape_mismatch, "axis " + std::to_string(axis) + " of " + x.str() + " does not split into " +
                                       std::to_string(parts) + " equal parts");
    s.assign(static_cast<size_t>(parts), x[axis] / parts);
  }
  if (static_cast<int64_t>(s.size()) != parts)
    fail(Status::invalid_argument, "split " + ints_str(s) + " has " + std::to_string(s.size()) + " values for " +
                                       std::to_string(parts) + " outputs");
  int64_t sum = 0;
  for (int64_t v : s) {
    if (v < 0) fail(Status::invalid_argument, "split " + ints_str(s) + " has a negative part");
    sum += v;
  }
  if (sum != x[axis])
    fail(Status::shape_mismatch, "split " + ints_str(s) + " sums to " + std::to_string(sum) + ", axis " +
                                     std::to_string(axis) + " of " + x.str() + " has " + std::to_string(x[axis]));
  return s;
}

class SplitOp : public OpDef {
 public:
  int max_rank() const override { return kMaxRank; }
  std::vector<Shape> infer(const Node& n, const std::vector<Shape>& in) const override {
    if (in.size() != 1 || in[0].rank < 0)
      fail(Status::invalid_argument, "takes exactly one input (the converter folds the 'split' input)");
    const Shape& x = in[0];
    const int axis = split_axis(n, x.rank);
    std::vector<Shape> outs;
    for (int64_t s : split_sizes(n, x)) {
      Shape o = x;
      o[axis] = s;
      outs.push_back(o);
    }
    return outs;
  }

  void run(const Node& n, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    require(ctx.kernels.view_copy != nullptr, Status::unsupported, "this kernel table has no view_copy");
    const Tensor& x = *in[0];
    const int axis = split_axis(n, x.rank());
    int64_t start = 0;
    for (Tensor* y : out) {
      kern::ViewCopyParams p;
      p.rank = x.rank();
      for (int k = 0; k < x.rank(); ++k) {
        p.out[k] = p.src_dims[k] = y->dim(k);
        p.src_stride[k] = x.stride(k);
      }
      p.src_offset = start * x.stride(axis);
      start += y->dim(axis);
      if (y->numel()) ctx.kernels.view_copy(p, x.f32(), y->f32());
    }
  }

  bool keeps_samples_apart(const Node& n, const BatchQuery& q) const override {
    return q.out_rank > 0 && split_axis(n, q.out_rank) != 0;
  }
  Gradient gradient() const override { return Gradient::rule; }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override { return {VX_KERNEL_USE(t, view_copy)}; }
  const char* parity_test() const override { return "tests/ops/test_convert_views.py"; }

  // dx is the outputs' gradients concatenated along the axis (zero for an output that
  // reaches no seed).
  void backward(const Node& n, BackwardContext& ctx) const override {
    if (!ctx.wants(0)) return;
    const Shape x = ctx.shape(n.inputs[0]);
    const int axis = split_axis(n, x.rank);
    const int64_t outer = x.prod(0, axis), inner = x.prod(axis + 1, x.rank);
    Tensor dx = Tensor::zeros(x);
    int64_t start = 0;
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      const int64_t len = ctx.shape(n.outputs[k])[axis];
      if (const Tensor* dy = ctx.dy_at(k))
        for (int64_t o = 0; o < outer; ++o)
          std::memcpy(dx.f32() + (o * x[axis] + start) * inner, dy->f32() + o * len * inner,
                      static_cast<size_t>(len * inner) * sizeof(float));
      start += len;
    }
    ctx.accumulate(0, dx);
  }
};

// --- Where
Shape broadcast3(const std::vector<Shape>& in) {
  int r = 0;
  for (const Shape& s : in) r = std::max(r, s.rank);
  std::vector<int64_t> o(static_cast<size_t>(r), 1);
  for (const Shape& s : in)
    for (int k = 0; k < s.rank; ++k) {
      int64_t& d = o[k + r - s.rank];
      if (s[k] != d && s[k] != 1 && d != 1)
        fail(Status::shape_mismatch, "condition " + in[0].str() + ", X " + in[1].str() + " and Y " + in[2].str() +
                                         " do not broadcast together");
      if (d == 1) d = s[k];
    }
  return shape_of(o);
}

// Element strides of `x` read as broadcast against `out` (0 on broadcast axes).
void broadcast_strides(const Shape& out, const Shape& x, const std::vector<int64_t>& xs, int64_t* st) {
  for (int k = 0; k < out.rank; ++k) {
    const int i = k - (out.rank - x.rank);
    st[k] = i < 0 || x[i] == 1 ? 0 : xs[i];
  }
}

kern::SelectParams select_params(const Shape& out, const Shape* s, const std::vector<int64_t>* st) {
  kern::SelectParams p;
  p.rank = out.rank;
  for (int k = 0; k < out.rank; ++k) p.out[k] = out[k];
  broadcast_strides(out, s[0], st[0], p.mask_stride);
  broadcast_strides(out, s[1], st[1], p.a_stride);
  broadcast_strides(out, s[2], st[2], p.b_stride);
  return p;
}

class WhereOp : public OpDef {
 public:
  int max_rank() const override { return kMaxRank; }
  std::vector<Shape> infer(const Node&, const std::vector<Shape>& in) const override {
    if (in.size() != 3) fail(Status::invalid_argument, "takes three inputs (condition, X, Y)");
    for (const Shape& s : in)
      if (s.rank < 0) fail(Status::invalid_argument, "inputs must not be omitted");
    return {broadcast3(in)};
  }
  void run(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext& ctx) const override {
    require(ctx.kernels.select != nullptr, Status::unsupported, "this kernel table has no select");
    if (out[0]->numel() == 0) return;
    const Shape s[3] = {in[0]->shape(), in[1]->shape(), in[2]->shape()};
    const std::vector<int64_t> st[3] = {strides_of(*in[0]), strides_of(*in[1]), strides_of(*in[2])};
    ctx.kernels.select(select_params(out[0]->shape(), s, st), in[0]->f32(), in[1]->f32(), in[2]->f32(),
                       out[0]->f32());
  }
  // A constant operand (the condition, a constant X or Y) must be the same for every sample.
  bool keeps_samples_apart(const Node& n, const BatchQuery& q) const override {
    for (const auto& t : n.inputs) {
      auto w = q.graph.weights.find(t);
      if (w != q.graph.weights.end() && w->second.rank() >= q.out_rank && w->second.dim(0) != 1) return false;
    }
    return true;
  }
  Gradient gradient() const override { return Gradient::rule; }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, select), VX_KERNEL_USE(t, select_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  // dX = dy where the condition holds, dY = dy elsewhere, each summed over its broadcast
  // axes; the condition is a constant.
  void backward(const Node& n, BackwardContext& ctx) const override {
    const bool wa = ctx.wants(1), wb = ctx.wants(2);
    if (!wa && !wb) return;
    const Shape s[3] = {ctx.shape(n.inputs[0]), ctx.shape(n.inputs[1]), ctx.shape(n.inputs[2])};
    const std::vector<int64_t> st[3] = {contiguous_strides(s[0]), contiguous_strides(s[1]), contiguous_strides(s[2])};
    const Tensor mask = ctx.value(n.inputs[0]);
    const Tensor& dy = ctx.dy();
    Tensor da = wa ? Tensor::empty(s[1]) : Tensor(), db = wb ? Tensor::empty(s[2]) : Tensor();
    ctx.kernels().select_backward(select_params(dy.shape(), s, st), mask.f32(), dy.f32(), s[1].numel(),
                                  wa ? da.f32() : nullptr, s[2].numel(), wb ? db.f32() : nullptr);
    if (wa) ctx.accumulate(1, da);
    if (wb) ctx.accumulate(2, db);
  }
};

// --- Cast: float to float is the identity (a view); other casts are folded by the converter.
class CastOp : public OpDef {
 public:
  int max_rank() const override { return kMaxRank; }
  int alias_input() const override { return 0; }
  std::vector<Shape> infer(const Node& n, const std::vector<Shape>& in) const override {
    if (in.size() != 1 || in[0].rank < 0) fail(Status::invalid_argument, "takes exactly one input");
    const int64_t to = n.attrs.get_int("to", -1);
    if (to != 1)  // ONNX TensorProto.FLOAT
      fail(Status::unsupported, "Cast to ONNX type " + std::to_string(to) +
                                    " is not supported: only float (to = 1) runs; weights/convert.py folds "
                                    "integer casts");
    return {in[0]};
  }
  void run(const Node&, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           RunContext&) const override {
    out[0]->copy_from(*in[0]);
  }
  bool keeps_samples_apart(const Node& n, const BatchQuery& q) const override {
    return q.constant_operand_per_sample(n);
  }
  Gradient gradient() const override { return Gradient::rule; }
  std::vector<KernelUse> kernels(const kern::KernelTable& t) const override {
    return {VX_KERNEL_USE(t, copy_backward)};
  }
  const char* parity_test() const override { return "tests/ops/gen_ops_fixtures.py"; }
  ExplainTraits explain_traits() const override {
    ExplainTraits e;
    e.stage = true;
    return e;
  }
  void backward(const Node& n, BackwardContext& ctx) const override {
    Tensor dx = Tensor::empty(ctx.shape(n.inputs[0]));
    ctx.kernels().copy_backward(dx.numel(), ctx.dy().f32(), dx.f32());
    ctx.accumulate(0, dx);
  }
};

static_assert(kMaxRank <= kern::kViewMaxRank, "view_copy and select take every tensor rank");

}  // namespace

void register_view_transform(OpRegistry& r) {
  r.add("Transpose", std::make_unique<CopyOp>(Kind::transpose));
  r.add("Expand", std::make_unique<CopyOp>(Kind::expand));
  r.add("Tile", std::make_unique<CopyOp>(Kind::tile));
  r.add("Split", std::make_unique<SplitOp>());
  r.add("Where", std::make_unique<WhereOp>());
  r.add("Cast", std::make_unique<CastOp>());
}

}  // namespace vx
