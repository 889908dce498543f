// The names a Conv's `activation` attribute takes (lib/ops/conv.cpp), one table for the
// fuser that writes them (lib/exec/fuse.cpp) and the Conv that reads them.
#pragma once
#include <string>

#include "core/error.h"
#include "kernel_table.h"

namespace vx {

inline const char* conv_activation_name(kern::Unary act) {
  switch (act) {
    case kern::Unary::relu: return "relu";
    case kern::Unary::leaky_relu: return "leaky_relu";
    case kern::Unary::sigmoid: return "sigmoid";
    case kern::Unary::tanh: return "tanh";
    default: return nullptr;  // not a post-op a Conv takes
  }
}

// "" and "none" are the identity; anything else unknown is refused.
inline kern::Unary conv_activation(const std::string& name) {
  if (name.empty() || name == "none") return kern::Unary::identity;
  for (kern::Unary u : {kern::Unary::relu, kern::Unary::leaky_relu, kern::Unary::sigmoid, kern::Unary::tanh})
    if (name == conv_activation_name(u)) return u;
  fail(Status::invalid_argument, "unknown activation '" + name + "' (relu, leaky_relu, sigmoid, tanh)");
}

}  // namespace vx
