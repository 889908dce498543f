// Sliding-window inference for volumes larger than a network's input, nnU-Net style, and
// slice-wise 2D inference over a volume. The network is any callable that runs a batch.
#pragma once
#include <array>
#include <functional>
#include <vector>

#include "core/tensor.h"

namespace vx {

// Runs one batch: 3D [B, C, d, h, w] -> [B, K, d, h, w]; 2D [B, C, h, w] -> [B, K, h, w].
// Called on the caller's thread; the input tensor is only valid during the call.
using BatchFn = std::function<Tensor(const Tensor& batch)>;
// Reports windows (or slices) done out of total; returning true cancels (-> Error(cancelled)),
// as everywhere in the engine (exec/executor.h) and the C API.
using ProgressFn = std::function<bool(int64_t done, int64_t total)>;

struct SlidingWindowOptions {
  std::array<int64_t, 3> window{0, 0, 0};  // (D, H, W) network input size, required
  double overlap = 0.5;                    // fraction of the window shared by neighbours, [0, 1)
  bool gaussian = true;                    // nnU-Net importance weighting, else uniform
  double sigma_scale = 1.0 / 8;            // sigma = window * sigma_scale per axis
  int batch_size = 1;                      // windows per network call
  bool mirror = false;                     // test-time augmentation: all flips of mirror_axes
  std::array<bool, 3> mirror_axes{true, true, true};  // (D, H, W)
  float pad_value = 0.f;                   // used where the volume is smaller than the window
  ProgressFn progress;                     // optional
};

// Start positions along one axis (nnU-Net compute_steps_for_sliding_window): the number of
// windows is ceil((size - window) / (window * (1 - overlap))) + 1, spread evenly, rounded.
std::vector<int64_t> window_starts(int64_t size, int64_t window, double overlap);

// Weight map [d, h, w]: exp(-sum((x - c)^2 / (2 sigma^2))) with c = window // 2 and
// sigma = window * sigma_scale, normalised to a maximum of 1 (strictly positive everywhere).
Tensor gaussian_importance(const std::array<int64_t, 3>& window, double sigma_scale = 1.0 / 8);

// input [C, D, H, W] -> [K, D, H, W]: predictions of overlapping windows blended with the
// importance map (a weighted mean per voxel); mirrored predictions are averaged.
// Throws Error(invalid_argument / shape_mismatch) for bad options or network outputs,
// Error(cancelled) when the progress callback says so.
Tensor sliding_window_inference(const Tensor& input, const BatchFn& net, const SlidingWindowOptions& opts);

struct SliceOptions {
  int batch_size = 8;   // slices per network call
  bool mirror = false;  // average with the H- and W-flipped predictions (4 passes)
  ProgressFn progress;
};

// input [C, D, H, W] -> [K, D, H, W], each D slice through a 2D network [B, C, H, W] -> [B, K, H, W].
Tensor slice_inference_2d(const Tensor& input, const BatchFn& net2d, const SliceOptions& opts = {});

}  // namespace vx
