// The interface every op implements, and the registry that finds ops by type name.
//
// An op is one place: its file (lib/ops/<op>.cpp) holds everything the rest of the engine
// asks about it, so no pass matches op names as strings.
//
//   Required (pure virtual: forgetting one is a compile error)
//     infer()               attribute checks and output shapes
//     run()                 the call into the session's kernel table (arithmetic lives in kernels/)
//     keeps_samples_apart() batch splitting (lib/exec/batch_split.h): whether sample i of the
//                           output depends on sample i of the inputs only
//     gradient()            Grad-CAM (lib/explain/backward.h): Gradient::rule (then backward()
//                           must be overridden) or Gradient::none, an explicit "no gradient"
//     kernels()             the kernel-table entries run() calls; the reference table
//                           (kernels/ref) must have every one (tests/ops/op_registry_test.cpp)
//     parity_test()         the file under tests/ that checks this op against an independent
//                           oracle (PyTorch); it must exist and name the op
//   Optional (the default is always correct, at worst slower)
//     alias_input()         view ops: the input whose storage output 0 reuses
//     layout()              which layouts it takes and gives (lib/exec/layout.h); default plain
//     in_place()            which input an output may overwrite (lib/exec/planner.h); default none
//     conv_epilogue()       what a Conv before it may absorb it as (lib/exec/fuse.h); default none
//     absorbs_activation()  whether it absorbs a following activation itself (normalisations)
//     explain_traits()      its role when Grad-CAM picks layers and logits; default none
//     backward()            the Grad-CAM rule, when gradient() is Gradient::rule
//
// The executor resolves each node's OpDef once when it prepares a plan (Executor::prepare)
// and passes per-node decisions (scratch, the in-place input) in RunContext.
// How to add an op: lib/ops/README.md.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"
#include "kernel_table.h"

namespace vx {

// Per-session, per-node state an op may build on first run and reuse (e.g. folded
// batch-norm coefficients, prepared convolutions). Owned by the session.
struct OpState {
  virtual ~OpState() = default;
};

struct RunContext {
  const kern::KernelTable& kernels;
  std::unique_ptr<OpState>& state;  // this node's slot
  // Arena bytes the memory planner set aside for this step (MemoryPlan::scratch), or none.
  float* scratch = nullptr;
  int64_t scratch_floats = 0;
  // Owner of packed weights for this graph's weights (the model's, shared by its sessions;
  // or the executor's own). Ops that prepare kernels (Conv) keep their packings there.
  kern::WeightPacks* packs = nullptr;
  // The input whose bytes output 0 was planned over (the planner granted what in_place()
  // offered: MemoryPlan::in_place), or -1: output 0 shares no bytes with any input.
  int in_place_input = -1;
};

// --- batch splitting (lib/exec/batch_split.h) ---
// What keeps_samples_apart() may ask. The splitter has already checked that every output and
// every activation input has the batch's extent on axis 0.
struct BatchQuery {
  const Graph& graph;
  const std::map<std::string, Shape>& shapes;  // every tensor of `graph`, for the batch
  int out_rank = 0;                            // rank of the node's output 0 (0 when unknown)

  bool is_weight(const std::string& t) const { return graph.weights.count(t) != 0; }
  // An axis attribute normalised against out_rank (default `def`).
  int64_t axis(const Node& n, int64_t def) const {
    const int64_t a = n.attrs.get_int("axis", def);
    return a < 0 ? a + out_rank : a;
  }
  // Whether a constant second operand (a weight at input 1) is the same for every sample:
  // rank below the output's, or extent 1 on axis 0. True when input 1 is no weight.
  bool constant_operand_per_sample(const Node& n) const {
    if (n.inputs.size() < 2 || n.inputs[1].empty()) return true;
    auto w = graph.weights.find(n.inputs[1]);
    return w == graph.weights.end() || w->second.rank() < out_rank || w->second.dim(0) == 1;
  }
};

// --- layouts (lib/exec/layout.h) ---
inline constexpr int kAnyLayout = -1;  // a reader that takes either layout (it reorders internally)

struct LayoutQuery {
  const std::map<std::string, Shape>& shapes;
  // Whether tensor `t` may be blocked16 (rank 4/5, channels in 16s, not readable from outside).
  std::function<bool(const std::string&)> can_block;
  // Whether tensor `t` is blocked16 so far (graph inputs and weights never are).
  std::function<bool(const std::string&)> is_blocked;
};

struct LayoutChoice {
  int out = -1;           // layout of output 0: 0 plain, 1 blocked16; -1: the op has no layout
                          // attributes (plain in, plain out)
  std::vector<int> want;  // per input: 0 plain, 1 blocked16, kAnyLayout; the caller sizes it
                          // to the node's inputs, all plain
  bool records_input_layout = false;  // the op reads kLayoutX (its input 0's layout after reorders)
};

// The rule of ops that work per channel in either layout (pooling, normalisations): output 0
// is blocked16 when input 0 is and the output may be, and input 0 is wanted in that layout.
inline void same_layout_as_input(const Node& n, const LayoutQuery& q, LayoutChoice& c) {
  c.records_input_layout = true;
  if (n.outputs.size() != 1) return;
  c.out = q.can_block(n.outputs[0]) && q.is_blocked(n.inputs[0]);
  c.want[0] = c.out;
}

// --- memory planning (lib/exec/planner.h) ---
struct InPlace {
  enum class Kind {
    none,
    // The inputs are contiguous runs of output 0 along `axis` when every axis before it has
    // extent 1 (Concat): the planner may place them there, and run() then copies nothing
    // for an input already at its place.
    slices,
    // Output 0 may take the bytes of input `input` (same size): each element of the input is
    // read before the output element at the same place is written (a Conv's residual).
    elementwise,
    // Output 0 may be computed over input `input` with `scratch_floats` floats of scratch
    // (a Conv over its input, lib/ops/conv_in_place.h; the planner grants it only where the
    // scratch is well under the bytes it saves).
    gathered,
  };
  Kind kind = Kind::none;
  int input = -1;
  int axis = -1;
  int64_t scratch_floats = 0;
};

// --- fusion (lib/exec/fuse.h) ---
// What a single-consumer Conv before this node may absorb it as (the Conv's attributes then
// say so: lib/ops/conv.cpp).
struct ConvEpilogue {
  // prelu: PRelu (slope at input 1); no Conv takes it, a normalisation does (absorbs_activation)
  enum class Kind { none, activation, residual_add, max_pool, prelu };
  Kind kind = Kind::none;
  kern::Unary act = kern::Unary::identity;  // activation
  double alpha = 0.01;                      // activation (LeakyRelu)
  bool has_alpha = false;
};

// --- explanations (lib/explain/gradcam.h) ---
struct ExplainTraits {
  bool global_pool = false;  // its input is the default Grad-CAM layer (the first such node)
  bool feature_map = false;  // produces feature maps (Conv): without a global pool, the last one's output is the layer
  bool stage = false;        // shape-preserving op of a conv stage (BN, activation, residual add) the default layer follows
  bool squashes_logits = false;  // a final node of this op turns logits into scores (Softmax, Sigmoid): its input is the logit
};

// --- Grad-CAM backward (lib/explain/backward.h) ---
enum class Gradient { rule, none };

// What backward() reads and writes; implemented by the backward pass over a forward run.
class BackwardContext {
 public:
  virtual ~BackwardContext() = default;
  virtual const kern::KernelTable& kernels() const = 0;
  virtual Shape shape(const std::string& tensor) const = 0;   // any tensor of the run
  virtual Tensor value(const std::string& tensor) const = 0;  // its forward value (kept alive)
  virtual const Tensor& dy() const = 0;                       // gradient of the node's output 0
  // Gradient of output k (multi-output ops: Split), or NULL where output k reaches no seed.
  virtual const Tensor* dy_at(size_t output) const { return output == 0 ? &dy() : nullptr; }
  virtual bool wants(size_t input) const = 0;                 // whether input k's gradient is needed
  virtual void accumulate(size_t input, Tensor dx) = 0;       // adds dx to input k's gradient
};

// A kernel-table entry an op calls, and whether the table at hand has it.
struct KernelUse {
  const char* entry;
  bool present;
};
#define VX_KERNEL_USE(table, entry) ::vx::KernelUse{#entry, (table).entry != nullptr}

class OpDef {
 public:
  virtual ~OpDef() = default;
  // Checks attributes and input shapes (weights included, in node-input order; an omitted
  // optional input has rank -1) and returns the output shapes. Throws Error on mismatch;
  // the caller prefixes the node's name.
  virtual std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const = 0;
  // Computes outputs (already allocated with the inferred shapes, contiguous).
  virtual void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                   RunContext& ctx) const = 0;

  // Whether the node treats samples independently (sample i of each output depends on sample
  // i of the activation inputs only), so a batch may run in chunks of samples. False is safe.
  virtual bool keeps_samples_apart(const Node& node, const BatchQuery& q) const = 0;
  // Gradient::rule: backward() carries output 0's gradient to the inputs; Gradient::none: the
  // op has none, and Grad-CAM names the node when it lies between the layer and the output.
  virtual Gradient gradient() const = 0;
  // The entries of `t` run() calls (VX_KERNEL_USE(t, conv), ...); none for an op that only
  // moves bytes itself (views, Concat on the host).
  virtual std::vector<KernelUse> kernels(const kern::KernelTable& t) const = 0;
  // Path under the source tree of the test that checks this op against an independent oracle,
  // e.g. "tests/ops/gen_ops_fixtures.py" (which must name the op in quotes).
  virtual const char* parity_test() const = 0;

  // For view ops (flatten, dropout, reshape): the input whose storage output 0 reuses.
  virtual int alias_input() const { return -1; }
  // Fills `c` (want is pre-sized, all plain). Called for every node with inputs.
  virtual void layout(const Node&, const LayoutQuery&, LayoutChoice&) const {}
  // What output 0 may share with an input; `in`/`out` are the node's planned shapes.
  virtual InPlace in_place(const Node&, const std::vector<Shape>& /*in*/, const std::vector<Shape>& /*out*/) const {
    return {};
  }
  virtual ConvEpilogue conv_epilogue(const Node&) const { return {}; }
  // Whether this node may absorb a following single consumer whose conv_epilogue() is `e`
  // (an activation it then applies itself: lib/exec/fuse.h writes the `activation`, `alpha`
  // attributes, and a PRelu's slope as an extra input). Default none.
  virtual bool absorbs_activation(const Node&, const ConvEpilogue& /*e*/) const { return false; }
  virtual ExplainTraits explain_traits() const { return {}; }
  // The highest rank its inputs and outputs may have (Graph::infer_shapes checks it): compute
  // ops kComputeMaxRank (5); view and transpose ops, whose kernels take any rank, kMaxRank.
  virtual int max_rank() const { return kComputeMaxRank; }
  // The Grad-CAM rule (gradient() == Gradient::rule). The default fails: declared, not written.
  virtual void backward(const Node& node, BackwardContext& ctx) const;
};

const OpDef* find_op(const std::string& type);
std::vector<std::string> registered_ops();

}  // namespace vx
