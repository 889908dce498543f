// Graph-level backward pass for explanation methods: carries the gradient of one seed
// tensor (usually a logit) back to chosen activations, through ONLY the nodes that lie on a
// path between them. Data gradients only; weights are constants. Ops follow ONNX semantics.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "exec/executor.h"
#include "kernel_table.h"

namespace vx::explain {

struct BackwardPlan {
  std::string seed;                  // tensor whose gradient is given
  std::vector<std::string> targets;  // tensors whose gradients are wanted
  std::vector<int> nodes;            // nodes to differentiate, in REVERSE execution order
  std::set<std::string> needed;      // forward tensors the backward pass reads (ExecOptions.keep)
};

// Throws Error(invalid_argument) naming the target when no node path joins it to the seed,
// and Error(unsupported) naming the node when an op on the path has no backward rule.
BackwardPlan plan_backward(const Graph& g, const std::vector<int>& order, const std::string& seed,
                           const std::vector<std::string>& targets);

// Runs the plan after `ex` ran forward with ExecOptions.keep ⊇ plan.needed, with the
// *_backward entries of `kernels` (host memory: ex's tensors are read on the host). `dseed`
// has the seed's shape. Returns the gradient of every target (same shape as the target).
// Throws Error(unsupported) naming the table and the entry when `kernels` lacks one.
std::map<std::string, Tensor> run_backward(const BackwardPlan& plan, const Executor& ex, const Tensor& dseed,
                                           const kern::KernelTable& kernels = kern::ref_kernels());

// The first *_backward entry `t` lacks (NULL: "not on this backend"), by name, or NULL when
// it has them all.
const char* missing_backward_kernel(const kern::KernelTable& t);
// Throws Error(unsupported) naming `t` and the entry when missing_backward_kernel(t) is set.
// Grad-CAM calls it before it runs anything on `t`.
void require_backward_kernels(const kern::KernelTable& t);

// Op types with a backward rule (OpDef::gradient() == Gradient::rule; the rule is the op's
// OpDef::backward, in its file under lib/ops/).
bool has_backward(const std::string& op);

}  // namespace vx::explain
