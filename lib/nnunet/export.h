// nnU-Net's export (inference/export_prediction.py): logits at the network's resolution resampled
// back to the cropped input grid with the probabilities' resampling (float16 values stay float16),
// argmax (or sigmoid > 0.5 per region in regions_class_order), pasted into zeros of the uncropped
// volume and transposed back to the reader's axis order.
#pragma once
#include <cstdint>
#include <vector>

#include "nnunet/plan.h"
#include "nnunet/preprocess.h"

namespace vx::nnunet {

// logits: [heads, *net_shape]. half: the logits are float16 (nnU-Net's default), so the resampled
// values are rounded to float16 as NumPy stores them. Returns labels [reader dims], and the
// resampled logits in `resampled` when given ([heads, *box size]).
std::vector<uint16_t> export_labels(const std::vector<float>& logits, const Dims& net_shape, const Preprocessed& props,
                                    const Plan& plan, bool half, std::vector<float>* resampled = nullptr);

}  // namespace vx::nnunet
