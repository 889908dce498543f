// Whether a batch can run one sample at a time with the same results: every op treats the
// samples of a batch independently (convolutions, pooling, normalisation, activations,
// channel concat/softmax, per-row Gemm, ...) and every activation carries the batch as its
// first axis. Then a batch of n needs the activations of one sample, not of n.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace vx {

// `shapes`: every tensor's shape for the batch (infer_shapes); `n`: its batch size.
bool samples_independent(const Graph& g, const std::map<std::string, Shape>& shapes, int64_t n);

}  // namespace vx
