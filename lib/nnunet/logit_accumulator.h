// Gaussian-weighted sum of tile logits over the padded volume, as nnU-Net's
// predict_sliding_window_return_logits does on the CPU: logits and weights are torch.half there,
// so every `+=` rounds to float16 (half(float(acc) + float32 term)) and the final division too.
// Kind::fp32 keeps float32 sums (the same Gaussian) for callers that want it.
#pragma once
#include <cstdint>
#include <vector>

#include "nnunet/logit_store.h"
#include "nnunet/sliding_window.h"

namespace vx::nnunet {

class LogitAccumulator {
 public:
  enum class Kind { fp16, fp32 };
  // padded: [D, H, W]; patch: 2 or 3 axes (a 2-D patch covers one slice); gaussian: the patch's
  // map from compute_gaussian.
  LogitAccumulator(int64_t heads, const std::array<int64_t, 3>& padded, std::vector<int64_t> patch,
                   std::vector<float> gaussian, Kind kind);
  // pred: [heads, *patch] float32 logits of one tile (mirror-averaged).
  void add_tile(const Tile& tile, const float* pred);
  // logits / weights over the region [below, below + size) of the padded volume: [heads, *size].
  LogitStore finish(const std::array<int64_t, 3>& below, const std::array<int64_t, 3>& size) const;
  // The same, computed in the accumulator's own buffer and handed over: no second
  // (heads x volume) array exists. The accumulator is empty afterwards.
  LogitStore take(const std::array<int64_t, 3>& below, const std::array<int64_t, 3>& size);
  // Bytes the accumulator holds (for --memory-limit estimates).
  static int64_t bytes_needed(int64_t heads, const std::array<int64_t, 3>& padded, Kind kind);

 private:
  int64_t heads_;
  std::array<int64_t, 3> padded_;
  std::vector<int64_t> patch_;
  std::vector<float> gaussian_;
  Kind kind_;
  LogitStore logits_, weights_;  // float16 values for Kind::fp16: torch.half's storage and rounding
};

// Fold average as predict_logits_from_preprocessed_data: sum += fold (rounded per add in fp16),
// then sum / n_folds. The first fold is moved into `sum` (no copy).
void add_fold(LogitStore& sum, LogitStore fold);
void divide_folds(LogitStore& sum, int64_t n_folds);

}  // namespace vx::nnunet
