// A Conv or ConvTranspose node's prepared convolutions (KernelTable::prepare_conv): one per
// problem the node runs (a convolution run in slabs has a few slab shapes), made with the
// session's kernel table on the node's first run after the plan is made and kept in the
// node's state, so nothing is prepared per run. Their packed weights go to the weights'
// owner (RunContext::packs: the model's, shared by its sessions).
#pragma once
#include <memory>
#include <vector>

#include "graph/op.h"

namespace vx {

class PreparedConvs : public OpState {
 public:
  // dst = act(conv(src) + bias + residual) (transpose: the transposed convolution, no
  // post-ops), prepared with `k` and `packs` the first time this problem is seen. A table
  // without prepare_conv runs its plain entries instead.
  void run(const kern::KernelTable& k, kern::WeightPacks* packs, const kern::ConvParams& p,
           const kern::ConvPostOps& post, bool transpose, const float* wei, const float* bias, const float* src,
           const float* residual, float* dst);
  size_t size() const { return entries_.size(); }  // problems prepared

 private:
  struct Entry {
    kern::ConvParams p;
    kern::ConvPostOps post;
    bool transpose;
    const float *wei, *bias;
    std::shared_ptr<const kern::PreparedConv> conv;
  };
  std::vector<Entry> entries_;
};

// The node's PreparedConvs (ctx.state), made on first use.
PreparedConvs& prepared_convs(RunContext& ctx);

// Through `prepared` when given, else the table's plain entries (callers without a node).
void run_conv(const kern::KernelTable& k, PreparedConvs* prepared, kern::WeightPacks* packs, const kern::ConvParams& p,
              const kern::ConvPostOps& post, const float* wei, const float* bias, const float* src,
              const float* residual, float* dst);

}  // namespace vx
