// The op registry, filled once at first use by the register_* function of each op file.
// Explicit registration (no static initialisers) so nothing is dropped by the linker.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "graph/op.h"

namespace vx {

class OpRegistry {
 public:
  void add(const std::string& type, std::unique_ptr<OpDef> op) { ops_[type] = std::move(op); }
  const OpDef* find(const std::string& type) const {
    auto it = ops_.find(type);
    return it == ops_.end() ? nullptr : it->second.get();
  }
  const std::map<std::string, std::unique_ptr<OpDef>>& all() const { return ops_; }

 private:
  std::map<std::string, std::unique_ptr<OpDef>> ops_;
};

// One per op file; the list lives in registry.cpp.
void register_conv(OpRegistry& r);
void register_elementwise(OpRegistry& r);
void register_conv_transpose(OpRegistry& r);
void register_batchnorm(OpRegistry& r);
void register_softmax(OpRegistry& r);
void register_pool(OpRegistry& r);
void register_concat(OpRegistry& r);
void register_resize(OpRegistry& r);
void register_gemm(OpRegistry& r);
void register_matmul(OpRegistry& r);  // batched MatMul (matops)
void register_view_ops(OpRegistry& r);
void register_pad(OpRegistry& r);
void register_layout_reorder(OpRegistry& r);
void register_activation(OpRegistry& r);  // issue 18: Elu .. Pow (lib/ops/activation.cpp)
void register_norm(OpRegistry& r);  // issue 18: InstanceNormalization, GroupNormalization, PRelu
// reductions and layer norm (issue 18): Reduce* (lib/ops/reduce.cpp), LayerNormalization
void register_reduce(OpRegistry& r);
void register_layer_norm(OpRegistry& r);
void register_view_transform(OpRegistry& r);  // view ops (issue 18): lib/ops/view_transform.cpp

}  // namespace vx
