// Whether a batch can run a few samples at a time with the same results: every op treats the
// samples of a batch independently (each op says so: OpDef::keeps_samples_apart; convolutions,
// pooling, normalisation, activations, channel concat/softmax, per-row Gemm, ...) and every activation carries the batch as its
// first axis. Then a batch of n needs the activations of one chunk of samples, not of n.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace vx {

// `shapes`: every tensor's shape for the batch (infer_shapes); `n`: its batch size.
bool samples_independent(const Graph& g, const std::map<std::string, Shape>& shapes, int64_t n);

// Input voxels a chunk aims at: a 3-D volume runs alone, 2-D slices several at a time, so the
// deep layers' convolutions still have enough work to run near peak. Measured, 2 threads, 20
// slices: ResNet-50 at 224^2 one at a time 468 ms / 16 MB, in chunks of 5 371 ms / 36 MB, whole
// batch 383 ms; the 2-D U-Net at 128x160 one at a time 1.70 s / 54 MB, chunks of 10 1.33 s /
// 239 MB, whole batch 1.32 s (PyTorch eager: 498 and 818 MB).
constexpr int64_t kChunkVoxels = int64_t{1} << 18;

// Samples per chunk for a batch of `n` whose first input is `input` (the batch's shape): the
// largest divisor of n (every chunk the same shape: one plan) whose chunk has at most
// `chunk_voxels` voxels (spatial extents: the axes after the first two), at least 1.
int64_t samples_per_chunk(const Shape& input, int64_t n, int64_t chunk_voxels = kChunkVoxels);

}  // namespace vx
