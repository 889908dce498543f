// Graph fusion for the CPU backends: folds an activation or a residual Add into the Conv
// that produces its input, so oneDNN applies it as a post-op while the output is still in
// cache, and a MaxPool into the Conv it reads, so the pair runs in slabs and the convolution's
// whole output is never stored (see the fused-Conv attributes in lib/ops/conv.cpp).
#pragma once
#include <set>
#include <string>

#include "graph/graph.h"

namespace vx {

// Returns a copy of `g` with these rewrites, repeated until none applies:
// (which consumer takes which is that op's OpDef::conv_epilogue, lib/graph/op.h)
//   Conv -> Add(other)              => Conv with residual `other`   (conv has no activation yet)
//   Conv -> Relu|LeakyRelu|Sigmoid|Tanh => Conv with `activation`   (conv has no activation yet)
//   X -> Relu|LeakyRelu|PRelu(weight slope) => X with `activation` (and the slope as an extra input)
//                                      where OpDef::absorbs_activation says X takes it (the norms)
//   Conv -> MaxPool                 => Conv with vx_pool_* attributes and a scratch output,
//                                      run in slabs (lib/ops/conv_pool.h); only when
//                                      `slab_pools` (kernels on host memory), no residual
// A Conv is only fused when its output has exactly one consumer, is not a graph output and
// is not named in `keep` (tensors a caller must still read, e.g. Grad-CAM's layer). An Add is
// only fused when shape inference shows `other` has the conv output's exact shape (no
// broadcast); a graph with run-time (-1) input dimensions is probed with two sizes. The
// fused node keeps the Conv's name and takes the fused node's output tensor name, so graph
// outputs are unchanged. Weights are shared with `g` (tensors share storage).
Graph fuse_graph(const Graph& g, const std::set<std::string>& keep = {}, bool slab_pools = false);

}  // namespace vx
