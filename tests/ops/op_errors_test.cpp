// Bad attributes and shapes: each op's infer() throws vx::Error with a message that says
// what is wrong (checked by a fragment of it), and the graph-level error names the node.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>

#include "exec/executor.h"
#include "graph/graph.h"
#include "graph/op.h"

using namespace vx;

namespace {

Shape none() {
  Shape s;
  s.rank = -1;
  return s;
}

// Runs op `type`'s infer() on the shapes; returns the error text ("" when it did not throw).
std::string infer_error(const std::string& type, const std::vector<Shape>& in,
                        const std::function<void(Attrs&)>& set = {}) {
  const OpDef* op = find_op(type);
  REQUIRE_MESSAGE(op != nullptr, "op " << type << " is not registered");
  Node n;
  n.name = "n";
  n.op = type;
  n.outputs = {"y"};
  if (set) set(n.attrs);
  try {
    op->infer(n, in);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& msg, const char* fragment) {
  const bool ok = msg.find(fragment) != std::string::npos;
  if (!ok) MESSAGE("message '" << msg << "' lacks '" << fragment << "'");
  return ok;
}

const Shape x4{1, 4, 8, 8}, x5{1, 4, 6, 8, 8};

}  // namespace

TEST_CASE("ConvTranspose") {
  CHECK(has(infer_error("ConvTranspose", {x4, Shape{3, 2, 3, 3}}), "input channels"));
  CHECK(has(infer_error("ConvTranspose", {x4, Shape{4, 2, 3, 3}}, [](Attrs& a) { a.set_int("group", 3); }),
            "group 3"));
  CHECK(has(infer_error("ConvTranspose", {x4, Shape{4, 2, 3, 3}},
                        [](Attrs& a) { a.set_ints("output_padding", {2, 2}); }),
            "output_padding"));
  CHECK(has(infer_error("ConvTranspose", {x4, Shape{4, 2, 3, 3}, Shape{5}}), "bias"));
  CHECK(has(infer_error("ConvTranspose", {x4, Shape{4, 2, 3, 3, 3}}), "does not match"));
  CHECK(has(infer_error("ConvTranspose", {x4, none()}), "takes X, W"));
  CHECK(infer_error("ConvTranspose", {x4, Shape{4, 2, 3, 3}, none()}).empty());
}

TEST_CASE("BatchNormalization") {
  CHECK(has(infer_error("BatchNormalization", {x5, Shape{4}, Shape{4}, Shape{3}, Shape{4}}), "mean"));
  CHECK(has(infer_error("BatchNormalization", {x5, Shape{4}, Shape{4}}), "takes X, scale"));
  CHECK(has(infer_error("BatchNormalization", {Shape{7}, Shape{7}, Shape{7}, Shape{7}, Shape{7}}), "[N, C"));
}

TEST_CASE("InstanceNormalization, GroupNormalization, PRelu (issue 18)") {
  CHECK(has(infer_error("InstanceNormalization", {Shape{1, 4, 1, 1, 1}, Shape{4}, Shape{4}}), "single value"));
  CHECK(has(infer_error("InstanceNormalization", {x5, Shape{3}, Shape{4}}), "scale"));
  CHECK(has(infer_error("InstanceNormalization", {x5, Shape{4}}), "takes X, scale"));
  CHECK(has(infer_error("InstanceNormalization", {x5, Shape{4}, Shape{4}}, [](Attrs& a) { a.set_str("activation", "tanh"); }),
            "relu, leaky_relu or prelu"));
  CHECK(has(infer_error("GroupNormalization", {x5, Shape{4}, Shape{4}}, [](Attrs& a) { a.set_int("num_groups", 3); }),
            "does not divide"));
  CHECK(has(infer_error("GroupNormalization", {x5, Shape{4}, Shape{4}}), "num_groups"));
  CHECK(has(infer_error("GroupNormalization", {Shape{1, 4, 1, 1}, Shape{4}, Shape{4}},
                        [](Attrs& a) { a.set_int("num_groups", 4); }),
            "single value"));
  CHECK(infer_error("GroupNormalization", {Shape{1, 4, 1, 1}, Shape{4}, Shape{4}},
                    [](Attrs& a) { a.set_int("num_groups", 2); }).empty());
  CHECK(has(infer_error("PRelu", {x4, Shape{4, 8, 1}}), "one per channel"));
  CHECK(has(infer_error("PRelu", {x4, Shape{3}}), "one per channel"));
  CHECK(infer_error("PRelu", {x4, Shape{4, 1, 1}}).empty());
  CHECK(infer_error("PRelu", {x4, Shape{1}}).empty());
}

TEST_CASE("Softmax, Concat, Flatten, Reshape") {
  CHECK(has(infer_error("Softmax", {x4}, [](Attrs& a) { a.set_int("axis", 4); }), "axis 4"));
  CHECK(has(infer_error("Concat", {x4, Shape{1, 3, 8, 7}}, [](Attrs& a) { a.set_int("axis", 1); }),
            "does not match"));
  CHECK(has(infer_error("Concat", {x4, x5}, [](Attrs& a) { a.set_int("axis", 1); }), "does not match"));
  CHECK(has(infer_error("Concat", {x4}), "'axis' is required"));
  CHECK(has(infer_error("Flatten", {x4}, [](Attrs& a) { a.set_int("axis", 5); }), "axis 5"));
  CHECK(has(infer_error("Reshape", {x4}, [](Attrs& a) { a.set_ints("shape", {3, -1}); }), "cannot reshape"));
  CHECK(has(infer_error("Reshape", {x4}, [](Attrs& a) { a.set_ints("shape", {-1, -1}); }), "more than one -1"));
  CHECK(has(infer_error("Reshape", {x4}), "'shape' is required"));
}

TEST_CASE("pooling") {
  CHECK(has(infer_error("MaxPool", {x4}), "kernel_shape"));
  CHECK(has(infer_error("MaxPool", {x4}, [](Attrs& a) { a.set_ints("kernel_shape", {3, 3, 3}); }), "needs 2 values"));
  CHECK(has(infer_error("MaxPool", {x4}, [](Attrs& a) { a.set_ints("kernel_shape", {9, 2}); }), "larger than"));
  CHECK(has(infer_error("AveragePool", {x4},
                        [](Attrs& a) {
                          a.set_ints("kernel_shape", {2, 2});
                          a.set_ints("dilations", {2, 2});
                        }),
            "dilations"));
  CHECK(has(infer_error("MaxPool", {Shape{4, 8}}, [](Attrs& a) { a.set_ints("kernel_shape", {2}); }), "4-D"));
  CHECK(has(infer_error("AdaptiveAveragePool", {x5}, [](Attrs& a) { a.set_ints("output_size", {2, 0, 2}); }),
            ">= 1"));
  CHECK(has(infer_error("AdaptiveMaxPool", {x5}), "output_size"));
}

TEST_CASE("Resize") {
  CHECK(has(infer_error("Resize", {x4}), "exactly one"));
  CHECK(has(infer_error("Resize", {x4},
                        [](Attrs& a) {
                          a.set_floats("scales", {2, 2});
                          a.set_ints("sizes", {4, 4});
                        }),
            "exactly one"));
  CHECK(has(infer_error("Resize", {x4}, [](Attrs& a) { a.set_floats("scales", {2, 2, 2}); }), "needs 2"));
  CHECK(has(infer_error("Resize", {x4},
                        [](Attrs& a) {
                          a.set_floats("scales", {2, 2});
                          a.set_str("mode", "cubic");
                        }),
            "cubic"));
  CHECK(has(infer_error("Resize", {x4},
                        [](Attrs& a) {
                          a.set_floats("scales", {2, 2});
                          a.set_int("align_corners", 1);
                        }),
            "linear mode only"));
  CHECK(has(infer_error("Resize", {x4, x5}), "rank"));
  CHECK(has(infer_error("Resize", {x4}, [](Attrs& a) { a.set_floats("scales", {0.05, 1}); }), "empty"));
}

TEST_CASE("Gemm, MatMul") {
  CHECK(has(infer_error("Gemm", {Shape{3, 5}, Shape{4, 6}}), "disagree on K"));
  CHECK(has(infer_error("Gemm", {Shape{3, 5}, Shape{5, 6}}, [](Attrs& a) { a.set_int("transA", 1); }), "transA"));
  CHECK(has(infer_error("Gemm", {Shape{3, 5}, Shape{6, 5}, Shape{3, 6}}, [](Attrs& a) { a.set_int("transB", 1); }),
            "C "));
  CHECK(infer_error("MatMul", {Shape{2, 3, 5}, Shape{5, 6}}).empty());  // batched
  CHECK(has(infer_error("MatMul", {Shape{2, 3, 5}, Shape{4, 6}}), "inner dimensions disagree"));
  CHECK(has(infer_error("MatMul", {Shape{2, 3, 5}, Shape{3, 5, 6}}), "do not broadcast"));
  CHECK(has(infer_error("MatMul", {Shape{5}, none()}), "at least 1-D"));
}

TEST_CASE("Pad, Slice") {
  CHECK(has(infer_error("Pad", {x4}, [](Attrs& a) { a.set_ints("pads", {0, 0, 1, 1}); }), "needs 8"));
  CHECK(has(infer_error("Pad", {x4}, [](Attrs& a) { a.set_ints("pads", {0, 1, 0, 0, 0, 0, 0, 0}); }), "spatial"));
  CHECK(has(infer_error("Pad", {x4},
                        [](Attrs& a) {
                          a.set_ints("pads", {0, 0, 8, 0, 0, 0, 0, 0});
                          a.set_str("mode", "reflect");
                        }),
            "reflect"));
  CHECK(has(infer_error("Pad", {x4}, [](Attrs& a) { a.set_ints("pads", {0, 0, -4, 0, 0, 0, -4, 0}); }),
            "to nothing"));
  CHECK(has(infer_error("Pad", {x4},
                        [](Attrs& a) {
                          a.set_ints("pads", {0, 0, 1, 0, 0, 0, 0, 0});
                          a.set_str("mode", "wrap");
                        }),
            "wrap"));
  auto slice = [](std::vector<int64_t> s, std::vector<int64_t> e, std::vector<int64_t> ax) {
    return [=](Attrs& a) {
      a.set_ints("starts", s);
      a.set_ints("ends", e);
      a.set_ints("axes", ax);
    };
  };
  CHECK(has(infer_error("Slice", {x4}, slice({5}, {2}, {2})), "is empty"));
  CHECK(has(infer_error("Slice", {x4}, slice({0}, {2}, {4})), "axis 4"));
  CHECK(has(infer_error("Slice", {x4}, slice({0, 0}, {2, 2}, {2, -2})), "sliced twice"));
  CHECK(has(infer_error("Slice", {x4}, slice({0}, {2, 3}, {2})), "same"));
}

TEST_CASE("a bad attribute in a graph names the node, and running it is an Error, not a crash") {
  auto g = std::make_shared<Graph>();
  g->inputs.push_back({"x", x5});
  Node n;
  n.name = "bottleneck_pool";
  n.op = "MaxPool";
  n.inputs = {"x"};
  n.outputs = {"y"};
  n.attrs.set_ints("kernel_shape", {2, 2});  // 3-D input needs three
  g->nodes.push_back(n);
  g->outputs = {"y"};
  Executor ex(g, kern::ref_kernels());
  std::string msg;
  try {
    ex.run({Tensor::zeros(x5)});
  } catch (const Error& e) {
    msg = e.what();
    CHECK(e.status() == Status::invalid_argument);
  }
  CHECK(has(msg, "bottleneck_pool"));
  CHECK(has(msg, "kernel_shape"));
}

TEST_CASE("activations and math (issue 18)") {
  // Pow's exponent and Clip's bounds are constants the converter writes as attributes.
  CHECK(has(infer_error("Pow", {x4, Shape{1}}, [](Attrs& a) { a.set_float("exponent", 2.0); }),
            "exponent must be a constant"));
  CHECK(has(infer_error("Pow", {x4}), "needs the attribute 'exponent'"));
  CHECK(infer_error("Pow", {x4}, [](Attrs& a) { a.set_float("exponent", 2.0); }).empty());
  CHECK(has(infer_error("Clip", {x4}, [](Attrs& a) {
              a.set_float("min", 2.0);
              a.set_float("max", 1.0);
            }),
            "greater than max"));
  CHECK(has(infer_error("Clip", {x4, Shape{1}, Shape{1}}), "min and max must be constants"));
  CHECK(infer_error("Clip", {x4}, [](Attrs& a) { a.set_float("max", 6.0); }).empty());
  CHECK(has(infer_error("Gelu", {x4}, [](Attrs& a) { a.set_str("approximate", "tanh"); }), "approximate 'tanh'"));
  CHECK(has(infer_error("Elu", {x4}, [](Attrs& a) { a.set_float("alpha", INFINITY); }), "not finite"));
  for (const char* op : {"Elu", "Selu", "HardSigmoid", "HardSwish", "Softplus", "Erf", "Gelu", "Exp", "Log", "Sqrt",
                         "Neg", "Abs"}) {
    CAPTURE(op);
    CHECK(has(infer_error(op, {x4, x4}), "exactly one input"));
    CHECK(has(infer_error(op, {none()}), "exactly one input"));
    CHECK(infer_error(op, {x5}).empty());
  }
}

TEST_CASE("reductions, LayerNormalization, LogSoftmax (issue 18)") {
  auto axes = [](std::vector<int64_t> v) { return [v](Attrs& a) { a.set_ints("axes", v); }; };
  CHECK(has(infer_error("ReduceMean", {x4}, axes({4})), "outside input"));
  CHECK(has(infer_error("ReduceMean", {x4}, axes({-5})), "outside input"));
  CHECK(has(infer_error("ReduceSum", {x4}, axes({1, -3})), "named twice"));
  CHECK(has(infer_error("ReduceMax", {Shape{2, 0, 3}}, axes({1})), "reduces no element"));
  CHECK(has(infer_error("ReduceSum", {x4, Shape{1}}), "axes as an input"));
  CHECK(has(infer_error("ReduceL2", {none()}), "takes one input"));
  CHECK(infer_error("ReduceMean", {x4}, axes({-1, 2})).empty());
  CHECK(has(infer_error("LayerNormalization", {x4, Shape{4}}), "normalised extents"));
  CHECK(has(infer_error("LayerNormalization", {x4, Shape{8}, Shape{7}}), "B [7]"));
  CHECK(has(infer_error("LayerNormalization", {x4, Shape{8}}, [](Attrs& a) { a.set_int("axis", 4); }), "outside"));
  CHECK(has(infer_error("LayerNormalization", {x4, Shape{8, 8}}, [](Attrs& a) { a.set_int("axis", 1); }),
            "normalised extents"));
  CHECK(infer_error("LayerNormalization", {x4, Shape{1, 8, 8}, Shape{8, 8}}, [](Attrs& a) { a.set_int("axis", 2); })
            .empty());
  // A partial broadcast over the normalised axes is refused (the converter expands such constants).
  CHECK(has(infer_error("LayerNormalization", {x4, Shape{8, 8}, Shape{8}}, [](Attrs& a) { a.set_int("axis", 2); }),
            "normalised extents"));
  CHECK(has(infer_error("LayerNormalization", {Shape{2, 0}, Shape{1}}), "no element"));
  CHECK(has(infer_error("LogSoftmax", {x4}, [](Attrs& a) { a.set_int("axis", 4); }), "outside"));
}

TEST_CASE("view ops (issue 18): Transpose, Expand, Tile, Split, Where, Cast") {
  CHECK(has(infer_error("Transpose", {x4}, [](Attrs& a) { a.set_ints("perm", {0, 1, 1, 2}); }), "not a permutation"));
  CHECK(has(infer_error("Transpose", {x4}, [](Attrs& a) { a.set_ints("perm", {0, 1, 4, 2}); }), "not a permutation"));
  CHECK(has(infer_error("Transpose", {x4}, [](Attrs& a) { a.set_ints("perm", {0, 1, 2}); }), "3 values"));
  CHECK(infer_error("Transpose", {x4}, [](Attrs& a) { a.set_ints("perm", {3, 1, 0, 2}); }).empty());
  CHECK(has(infer_error("Expand", {x4}, [](Attrs& a) { a.set_ints("shape", {1, 3, 8, 8}); }), "cannot expand"));
  CHECK(has(infer_error("Expand", {x4}), "'shape' is required"));
  CHECK(has(infer_error("Expand", {x4}, [](Attrs& a) { a.set_ints("shape", {2, 1, 1, 1, 1, 1, 4, 8, 8}); }), "rank 9"));
  CHECK(infer_error("Expand", {x4}, [](Attrs& a) { a.set_ints("shape", {3, 1, 1, 1}); }).empty());
  CHECK(has(infer_error("Tile", {x4}, [](Attrs& a) { a.set_ints("repeats", {1, 2}); }), "2 values"));
  CHECK(has(infer_error("Tile", {x4}, [](Attrs& a) { a.set_ints("repeats", {1, -2, 1, 1}); }), "negative"));
  CHECK(has(infer_error("Split", {x4}, [](Attrs& a) { a.set_ints("split", {1, 2}); }), "1 outputs"));
  CHECK(has(infer_error("Split", {x4}, [](Attrs& a) { a.set_int("axis", 4); }), "outside rank"));
  CHECK(has(infer_error("Where", {Shape{1, 3, 8, 8}, x4, x4}), "do not broadcast"));
  CHECK(has(infer_error("Where", {x4, x4}), "three inputs"));
  CHECK(has(infer_error("Cast", {x4}, [](Attrs& a) { a.set_int("to", 7); }), "only float"));
  CHECK(infer_error("Cast", {x4}, [](Attrs& a) { a.set_int("to", 1); }).empty());
  // Split's part count is its outputs' count.
  Node n;
  n.name = "s";
  n.op = "Split";
  n.outputs = {"a", "b", "c"};
  n.attrs.set_int("axis", 1);
  CHECK_THROWS_WITH_AS(find_op("Split")->infer(n, {x4}), doctest::Contains("3 equal parts"), Error);
  n.attrs.set_ints("split", {1, 1, 1});
  CHECK_THROWS_WITH_AS(find_op("Split")->infer(n, {x4}), doctest::Contains("sums to 3"), Error);
  n.attrs.set_ints("split", {1, 1, 2});
  const auto outs = find_op("Split")->infer(n, {x4});
  REQUIRE(outs.size() == 3);
  CHECK(outs[2] == Shape{1, 2, 8, 8});
}

namespace {
// x [1, 2, 3, 8] -> Reshape(shape) -> `op` -> Reshape back to x's shape; the error text of a run ("" if none).
std::string rank_chain_error(const std::vector<int64_t>& shape, const std::string& op, Tensor* result = nullptr) {
  const Shape xs{1, 2, 3, 8};
  auto g = std::make_shared<Graph>();
  g->inputs.push_back({"x", xs});
  auto add = [&](const char* name, const std::string& type, std::vector<std::string> in, const char* out) {
    Node n;
    n.name = name;
    n.op = type;
    n.inputs = std::move(in);
    n.outputs = {out};
    g->nodes.push_back(n);
    return &g->nodes.back();
  };
  add("up", "Reshape", {"x"}, "u")->attrs.set_ints("shape", shape);
  Node* mid = add("mid", op, {"u"}, "m");
  if (op == "Transpose") {
    std::vector<int64_t> perm(shape.size());
    for (size_t k = 0; k < perm.size(); ++k) perm[k] = static_cast<int64_t>(perm.size() - 1 - k);
    mid->attrs.set_ints("perm", perm);
  }
  add("down", "Reshape", {"m"}, "y")->attrs.set_ints("shape", {1, 2, 3, 8});
  g->outputs = {"y"};
  Tensor x = Tensor::zeros(xs);
  for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = static_cast<float>(i);
  try {
    Executor ex(g, kern::ref_kernels());
    Tensor y = ex.run({x}).at(0);
    if (result) *result = y;
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("ranks 6 to 8 through view and transpose ops only; rank 9 is an error (issue 18)") {
  Tensor y;
  CHECK(rank_chain_error({1, 2, 3, 2, 2, 2}, "Identity").empty());
  CHECK(rank_chain_error({1, 1, 2, 3, 2, 1, 2, 2}, "Transpose", &y).empty());
  REQUIRE(y.numel() == 48);
  // Oracle: the reversed-axes index map written out independently.
  const int64_t d[8] = {1, 1, 2, 3, 2, 1, 2, 2};
  int64_t st[8];
  st[7] = 1;
  for (int k = 6; k >= 0; --k) st[k] = st[k + 1] * d[k + 1];
  int bad = 0;
  int64_t o = 0;
  for (int64_t a = 0; a < d[7]; ++a)
    for (int64_t b = 0; b < d[6]; ++b)
      for (int64_t c = 0; c < d[5]; ++c)
        for (int64_t e = 0; e < d[4]; ++e)
          for (int64_t f = 0; f < d[3]; ++f)
            for (int64_t gg = 0; gg < d[2]; ++gg)
              for (int64_t h = 0; h < d[1]; ++h)
                for (int64_t i = 0; i < d[0]; ++i, ++o) {
                  const int64_t src = a * st[7] + b * st[6] + c * st[5] + e * st[4] + f * st[3] + gg * st[2] + h * st[1] + i * st[0];
                  bad += y.f32()[o] != static_cast<float>(src);
                }
  CHECK(bad == 0);
  const std::string add6 = rank_chain_error({1, 2, 3, 2, 2, 2}, "Relu");
  CHECK(has(add6, "'mid' (Relu)"));
  CHECK(has(add6, "rank 6"));
  CHECK(has(add6, "rank <= 5"));
  CHECK(has(rank_chain_error({1, 1, 2, 3, 2, 1, 2, 1, 2}, "Identity"), "1 to 8 values"));
}
