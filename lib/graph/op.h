// The interface every op implements, and the registry that finds ops by type name.
// An op's file (lib/ops/<op>.cpp) holds its attribute checks, shape inference and the
// call into the session's kernel table; the arithmetic lives in kernels/.
#pragma once
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
};

class OpDef {
 public:
  virtual ~OpDef() = default;
  // Checks attributes and input shapes (weights included, in node-input order; an omitted
  // optional input has rank -1) and returns the output shapes. Throws Error on mismatch;
  // the caller prefixes the node's name.
  virtual std::vector<Shape> infer(const Node& node, const std::vector<Shape>& in) const = 0;
  // For view ops (flatten, dropout, reshape): the input whose storage output 0 reuses.
  virtual int alias_input() const { return -1; }
  // Computes outputs (already allocated with the inferred shapes, contiguous).
  virtual void run(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                   RunContext& ctx) const = 0;
};

const OpDef* find_op(const std::string& type);
std::vector<std::string> registered_ops();

}  // namespace vx
