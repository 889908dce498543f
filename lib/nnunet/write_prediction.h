// Writes a Prediction on its input's grid: labels (uint8, or uint16 above 254 labels) and, when
// asked, the 4-D float32 probabilities. Both files appear together or not at all: each is
// written beside its destination under a temporary name, then both are renamed.
#pragma once
#include <string>

#include "image/volume.h"
#include "nnunet/predictor.h"

namespace vx::nnunet {

// `out` and `probabilities` (empty = not written) must end in .nii or .nii.gz.
void write_prediction(const Prediction& p, const Volume& like, const std::string& out, const std::string& probabilities);

// The check write_prediction makes, for callers that want it before the run.
void check_nifti_name(const std::string& path);

}  // namespace vx::nnunet
