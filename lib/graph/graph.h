// A model's computation: a DAG of nodes over named tensors. Weights are named constant
// tensors; graph inputs are fed by the caller; graph outputs are returned.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "graph/attrs.h"

namespace vx {

struct Node {
  std::string name;  // unique, used in error messages and to name Grad-CAM layers
  std::string op;    // registered op type, e.g. "Conv"
  std::vector<std::string> inputs;   // "" marks an omitted optional input
  std::vector<std::string> outputs;
  Attrs attrs;
};

struct GraphInput {
  std::string name;
  Shape shape;  // -1 marks a dimension fixed only at run time
};

struct Graph {
  std::vector<GraphInput> inputs;
  std::vector<std::string> outputs;
  std::vector<Node> nodes;
  std::map<std::string, Tensor> weights;

  // Checks the structure and returns the nodes in an executable (topological) order.
  // Errors name the offending node or tensor: duplicate names, a tensor produced twice,
  // an input nobody produces, an unknown op, a cycle, an output nobody produces.
  std::vector<int> topological_order() const;
  // Index of the node with this name, or -1.
  int find_node(const std::string& name) const;
};

// Infers every tensor's shape for the given graph-input shapes (in graph-input order).
// Throws Error naming the first node whose inputs do not fit it.
std::map<std::string, Shape> infer_shapes(const Graph& g, const std::vector<int>& order,
                                          const std::vector<Shape>& input_shapes);

}  // namespace vx
