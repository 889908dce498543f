// Graph nodes for tests, written in one line.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace vx::test {

inline Node node(const std::string& name, const std::string& op, std::vector<std::string> in,
                 std::vector<std::string> out) {
  Node n;
  n.name = name;
  n.op = op;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}

}  // namespace vx::test
