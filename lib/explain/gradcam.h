// Grad-CAM, Grad-CAM++ and occlusion sensitivity over any model the Executor runs.
//
// Grad-CAM (Selvaraju et al.) as the published code computed it (reference A4): forward pass
// keeping the layer's activation A; backward of the RAW logit (a final Softmax/Sigmoid is
// skipped) through only the nodes between the layer and the output; w_c = mean over the
// spatial axes of dLogit/dA_c; cam = sum_c w_c A_c; resized to the grid of the graph input the
// layer was computed from (trilinear/bilinear); clamped at 0; normalised to [0, 1] per sample
// as (m - min) / (max - min) (all zeros when max == min). `raw_max` is the maximum before
// normalisation. Grad-CAM++ (Chattopadhay et al.) uses, as pytorch-grad-cam does, the closed
// form for an exponential score: alpha = g^2 / (2 g^2 + sum(A) g^3 + 1e-6) (0 where g == 0),
// w_c = sum over space of relu(g) * alpha; the rest as Grad-CAM.
//
// Shared encoders: when the layer's node is applied to several inputs (an ONNX export of a
// dual encoder holds two copies of the layer's nodes reading the same weights), one map is
// returned per application, in execution order, each resized to the grid of its own input.
// Two tensors are "the same layer" when their producing sub-graphs match op for op and read
// the same weights (compared down to `match_depth` nodes), graph inputs being interchangeable.
//
// Segmentation outputs (spatial extent > 1): the score is the logit of the class summed over a
// region: `region` when given (non-zero voxels, output grid), else the voxels predicted as
// that class (argmax over channels).
//
// Errors (vx::Error): unknown layer (invalid_argument), class out of range (invalid_argument),
// no path from the layer to the output (invalid_argument), an op on the path without a backward
// rule (unsupported), a layer tensor that is not [N, C, (D,) H, W] (shape_mismatch).
#pragma once
#include <string>
#include <vector>

#include "exec/executor.h"
#include "model/model.h"

namespace vx::explain {

enum class CamMethod { gradcam, gradcam_pp };

struct CamOptions {
  CamMethod method = CamMethod::gradcam;
  // Node names or tensor names. Empty: metadata "gradcam_layer", else the output of the last
  // Conv-containing stage before global pooling (found from the graph).
  std::vector<std::string> layers;
  bool all_applications = true;  // add the other applications of a shared layer (see above)
  int match_depth = 8;
  int64_t target_class = -1;  // -1: the predicted class (argmax of the logits), per sample
  Tensor region;              // segmentation only: mask on the output's spatial grid
  int align_corners = -1;     // -1: metadata preprocessing.align_corners when present, else true
  bool resize_to_input = true;  // false: the map stays on the layer's grid
};

struct CamMap {
  std::string layer;  // activation tensor
  std::string input;  // graph input whose grid the map is on
  Tensor map;         // [N, 1, (D,) H, W], normalised to [0, 1]
  std::vector<float> raw_max;  // per sample, before normalisation
};

struct CamResult {
  std::vector<CamMap> maps;
  std::vector<int64_t> target_class;  // per sample
  std::vector<float> score;           // the differentiated score, per sample
};

// Runs forward and backward with `kernels` (its *_backward entries for the gradients). A
// table without them (the CUDA table: device memory) throws Error(unsupported) before any
// work; a CUDA session's Grad-CAM runs on the host tables (capi/gradcam_capi.cpp).
CamResult grad_cam(const Model& model, const std::vector<Tensor>& inputs, const CamOptions& options = {},
                   const kern::KernelTable& kernels = kern::default_kernels());

// The layer tensors Grad-CAM would use for these options (resolution of names, the default
// layer and shared applications), in execution order.
std::vector<std::string> resolve_cam_layers(const Model& model, const CamOptions& options);

struct OcclusionOptions {
  int64_t patch[3] = {1, 8, 8};   // D, H, W (D ignored for 2-D inputs)
  int64_t stride[3] = {1, 8, 8};
  float baseline = 0.f;           // value written into the occluded patch
  int input_index = 0;            // which graph input is occluded; the others stay as given
  int64_t target_class = -1;      // -1: predicted class
  int64_t batch = 8;              // occluded copies per forward pass (1 when the graph fixes N = 1)
};

// Occlusion sensitivity (Zeiler & Fergus): score(original) - score(occluded), averaged over
// the patches covering each voxel; voxels no patch covers get 0. Input batch must be 1.
// Returns [1, 1, (D,) H, W] on the occluded input's grid (not normalised).
Tensor occlusion_sensitivity(const Model& model, const std::vector<Tensor>& inputs,
                             const OcclusionOptions& options = {},
                             const kern::KernelTable& kernels = kern::default_kernels());

}  // namespace vx::explain
