/* Reads a scan (NIfTI file or DICOM folder), runs a single-input model on it, and writes
 *  - OUTDIR/result.nii.gz : channel 0 of the first output when it is on the scan's grid
 *                           (segmentation / denoising); a classifier's logits are printed instead
 *  - OUTDIR/gradcam.nii.gz: the Grad-CAM map of the predicted class, with the scan's geometry.
 * Usage: gradcam_volume MODEL.vxm SCAN OUTDIR          (C99, public header only)
 * The model must take one input [1, 1, D, H, W]; the scan is fed as is (no intensity
 * normalisation: add the model's preprocessing for real use). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voxinfer/voxinfer.h"

static int fail(const char* what) {
  fprintf(stderr, "%s: %s\n", what, vx_last_error());
  return 1;
}

int main(int argc, char** argv) {
  vx_model* model = NULL;
  vx_session* session = NULL;
  vx_volume* scan = NULL;
  vx_volume* out_vol = NULL;
  vx_tensor* out = NULL;
  vx_tensor* maps[4] = {NULL, NULL, NULL, NULL};
  int64_t dims[3], shape[5], odims[VX_MAX_RANK];
  const int64_t* shapes[1];
  const float* inputs[1];
  const float* data = NULL;
  const float* result = NULL;
  int32_t rank = 5, orank = 0;
  size_t n_maps = 0, n_out = 0, i;
  int64_t cls = -1;
  float raw_max = 0;
  double spacing[3];
  char path[4096], code[4];
  if (argc != 4) {
    fprintf(stderr, "usage: %s MODEL.vxm SCAN(.nii[.gz] or DICOM folder) OUTDIR\n", argv[0]);
    return 2;
  }
  if (vx_volume_read(argv[2], NULL, &scan) != VX_OK) return fail("read scan");
  if (vx_volume_dims(scan, dims) != VX_OK || vx_volume_data(scan, &data) != VX_OK ||
      vx_volume_spacing(scan, spacing) != VX_OK || vx_volume_axcodes(scan, code) != VX_OK)
    return fail("scan");
  printf("scan %s: %lld x %lld x %lld voxels, %.3g x %.3g x %.3g mm, %s\n", argv[2], (long long)dims[0],
         (long long)dims[1], (long long)dims[2], spacing[0], spacing[1], spacing[2], code);

  if (vx_model_load(argv[1], NULL, &model) != VX_OK) return fail("load");
  if (vx_session_create(model, NULL, &session) != VX_OK) return fail("session");
  /* The volume's buffer is [nz][ny][nx]: exactly a [1, 1, D, H, W] input, no copy. */
  shape[0] = 1;
  shape[1] = 1;
  shape[2] = dims[2];
  shape[3] = dims[1];
  shape[4] = dims[0];
  shapes[0] = shape;
  inputs[0] = data;
  if (vx_model_num_outputs(model, &n_out) != VX_OK || n_out != 1) return fprintf(stderr, "need 1 output\n"), 1;
  if (vx_session_run(session, 1, inputs, shapes, &rank, 1, &out) != VX_OK) return fail("run");
  if (vx_tensor_shape(out, odims, &orank) != VX_OK || vx_tensor_data(out, &result) != VX_OK) return fail("output");
  if (orank == 5 && odims[2] == dims[2] && odims[3] == dims[1] && odims[4] == dims[0]) {
    /* channel 0 of a [1, C, D, H, W] output lies first in memory: a volume on the scan's grid */
    if (vx_volume_create_like(scan, result, &out_vol) != VX_OK) return fail("result volume");
    snprintf(path, sizeof path, "%s/result.nii.gz", argv[3]);
    if (vx_volume_write(out_vol, path) != VX_OK) return fail("write result");
    printf("wrote %s\n", path);
    if (vx_volume_free(out_vol) != VX_OK) return fail("free");
    out_vol = NULL;
  } else {
    size_t numel = 0;
    if (vx_tensor_numel(out, &numel) != VX_OK) return fail("output");
    printf("output:");
    for (i = 0; i < numel && i < 16; ++i) printf(" %g", result[i]);
    printf("\n");
  }

  if (vx_session_gradcam(session, 1, inputs, shapes, &rank, NULL, 4, maps, &n_maps, &cls, &raw_max) != VX_OK)
    return fail("gradcam");
  if (vx_tensor_data(maps[0], &result) != VX_OK) return fail("map");
  /* maps[0] is [1, 1, D, H, W] on the input's grid, i.e. on the scan's grid */
  if (vx_volume_create_like(scan, result, &out_vol) != VX_OK) return fail("map volume");
  snprintf(path, sizeof path, "%s/gradcam.nii.gz", argv[3]);
  if (vx_volume_write(out_vol, path) != VX_OK) return fail("write map");
  printf("class %lld, Grad-CAM raw max %g: wrote %s\n", (long long)cls, raw_max, path);

  for (i = 0; i < n_maps; ++i)
    if (vx_tensor_free(maps[i]) != VX_OK) return fail("free");
  if (vx_volume_free(out_vol) != VX_OK || vx_tensor_free(out) != VX_OK || vx_volume_free(scan) != VX_OK ||
      vx_session_free(session) != VX_OK || vx_model_free(model) != VX_OK)
    return fail("free");
  return 0;
}
