// Static memory planning: every intermediate activation gets an offset in one arena,
// reusing bytes of tensors whose lifetimes have ended (greedy by size, best fit). A channel
// Concat of one sample is done in place: its inputs are planned as slices of its output
// (the U-Net skip is written once, where the decoder reads it), and the Concat copies nothing.
// A Conv may also write over an input that nothing reads after it, or over the residual it
// adds (see plan_memory). Which op may do what is the op's OpDef::in_place (lib/graph/op.h).
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace vx {

struct TensorPlan {
  enum class Where { input, weight, arena, output, alias, slice };
  Where where = Where::arena;
  Shape shape;
  size_t bytes = 0;
  size_t offset = 0;       // arena and slice tensors (a slice: its absolute arena offset)
  std::string alias_of;    // alias tensors: the tensor whose storage they view; slices: their root
                           // (a Concat's output, or the input a Conv writes over)
  int first_step = 0, last_step = 0;  // lifetime in execution steps (arena tensors)
};

struct MemoryPlan {
  std::map<std::string, TensorPlan> tensors;
  std::map<int, TensorPlan> scratch;  // execution step -> arena bytes its op computes with
  std::map<int, int> in_place;        // execution step -> the input its output 0 was planned over
                                      // (granted from OpDef::in_place; RunContext::in_place_input)
  size_t arena_bytes = 0;         // planned peak of intermediate activations
  size_t activation_bytes = 0;    // what they would take without reuse (slices counted in their Concat)
};

// `keep` names tensors that must stay intact until the run ends (e.g. Grad-CAM's layer).
// `convs_in_place`: a Conv may write over an input nothing reads after it (host kernels only:
// lib/ops/conv_in_place.h gathers and writes back planes on the host), or over a residual
// nothing reads after it (host kernels read each residual value before writing its place).
MemoryPlan plan_memory(const Graph& g, const std::vector<int>& order, const std::map<std::string, Shape>& shapes,
                       const std::set<std::string>& keep = {}, bool convs_in_place = false);

}  // namespace vx
