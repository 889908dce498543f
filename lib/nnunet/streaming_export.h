// nnU-Net's export (export.h) one class at a time: each head's logits are resampled back to the
// cropped input grid on their own and folded into a running argmax (or region threshold), so no
// (classes x native volume) map is ever held; the labels equal export_labels' (same resampling,
// same float16 rounding, first maximum wins). Probabilities need every class at once (softmax):
// only when asked for are they kept, at native size, as nnU-Net makes them (float32 softmax, or
// sigmoid for regions, of the resampled logits, pasted into zeros outside the crop box).
#pragma once
#include <cstdint>
#include <vector>

#include "nnunet/logit_store.h"
#include "nnunet/plan.h"
#include "nnunet/preprocess.h"

namespace vx::nnunet {

struct ExportResult {
  std::vector<uint16_t> labels;       // [reader dims]
  std::vector<float> probabilities;   // [heads, reader dims] when asked; else empty
};

// logits: [heads, *net_shape] (consumed: released once the last head is read, so callers can
// hand over their only copy); a float16 store (nnU-Net's default accumulation) keeps the
// resampled logits rounded to float16 as nnU-Net does.
ExportResult export_streaming(LogitStore&& logits, const Dims& net_shape, const Preprocessed& props,
                              const Plan& plan, bool probabilities);

// Transposes a [transposed dims] volume back to the reader's axis order (transpose_backward).
template <typename T>
std::vector<T> transpose_back(const std::vector<T>& v, const Dims& td, const std::vector<int>& tb) {
  const Dims od{td[size_t(tb[0])], td[size_t(tb[1])], td[size_t(tb[2])]};
  const int64_t st[3] = {td[1] * td[2], td[2], 1};
  std::vector<T> out(v.size());
  int64_t i = 0;
  for (int64_t a = 0; a < od[0]; ++a)
    for (int64_t b = 0; b < od[1]; ++b)
      for (int64_t k = 0; k < od[2]; ++k) out[size_t(i++)] = v[size_t(a * st[tb[0]] + b * st[tb[1]] + k * st[tb[2]])];
  return out;
}

}  // namespace vx::nnunet
