/* Uses only the public header, compiled as strict C99 (-std=c99 -pedantic -Werror -Wall -Wextra)
 * by test_c99_compile.py. Usage: c99_program MODEL INPUT.f32 EXPECTED.f32 N C D H W
 * Checks misuse statuses, then runs the model on the input and compares with the expected
 * output (PyTorch). Exits 0 only if everything holds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voxinfer/voxinfer.h"
#include "c_test_common.h"

int main(int argc, char** argv) {
  vx_model* model = NULL;
  vx_session* session = NULL;
  vx_session_options so;
  int64_t shape[5];
  const int64_t* shapes[1];
  int32_t rank = 5;
  const float* inputs[1];
  float* outputs[1];
  size_t capacity, n_in = 1, i;
  int64_t out_dims[5];
  int32_t out_rank = 0;
  vx_tensor* result = NULL;
  const float* result_data = NULL;
  float *input, *expected, *out;
  double max_err = 0.0;

  EXPECT(strcmp(vx_version(), "0.3.0") == 0);
  EXPECT(VX_VERSION_NUMBER == 300);
  EXPECT(vx_model_load("/nonexistent/model.vxm", NULL, &model) == VX_ERR_IO);
  EXPECT(model == NULL);
  EXPECT(strlen(vx_last_error()) > 0);
  EXPECT(vx_model_num_inputs(NULL, &n_in) == VX_ERR_INVALID_ARGUMENT);
  EXPECT(vx_model_free(NULL) == VX_OK);
  EXPECT(vx_session_free(NULL) == VX_OK);
  {
    /* the volume and Grad-CAM API from plain C99 */
    vx_volume* vol = NULL;
    vx_gradcam_options go;
    vx_volume_read_options ro;
    const float voxels[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    const int64_t vdims[3] = {2, 2, 2};
    int64_t got[3] = {0, 0, 0};
    EXPECT(vx_volume_read("/nonexistent/scan.nii.gz", NULL, &vol) == VX_ERR_IO);
    EXPECT(vol == NULL);
    EXPECT(vx_volume_read_options_init(&ro) == VX_OK && ro.struct_size == sizeof ro);
    EXPECT(vx_gradcam_options_init(&go) == VX_OK && go.target_class == -1 && go.method == VX_CAM_GRADCAM);
    EXPECT(vx_volume_create(voxels, vdims, NULL, &vol) == VX_OK);
    EXPECT(vx_volume_dims(vol, got) == VX_OK && got[0] == 2 && got[2] == 2);
    EXPECT(vx_volume_free(vol) == VX_OK);
    EXPECT(vx_volume_free(NULL) == VX_OK);
  }
  if (argc < 9) {
    fprintf(stderr, "usage: %s MODEL INPUT.f32 EXPECTED.f32 N C D H W\n", argv[0]);
    return 2;
  }
  for (i = 0; i < 5; ++i) shape[i] = atoll(argv[4 + i]);
  capacity = (size_t)(shape[0] * shape[1] * shape[2] * shape[3] * shape[4]);
  input = read_floats(argv[2], capacity);

  EXPECT(vx_model_load(argv[1], NULL, &model) == VX_OK);
  EXPECT(vx_model_num_inputs(model, &n_in) == VX_OK && n_in == 1);
  EXPECT(vx_session_options_init(&so) == VX_OK);
  so.threads = 2;
  so.backend = "cuda";
  EXPECT(vx_session_create(model, &so, &session) == VX_ERR_BACKEND_UNAVAILABLE);
  so.backend = "cpu";
  EXPECT(vx_session_create(model, &so, &session) == VX_OK);

  shapes[0] = shape;
  inputs[0] = input;
  EXPECT(vx_session_output_shape(session, 1, shapes, &rank, 0, out_dims, &out_rank) == VX_OK);
  capacity = 1;
  for (i = 0; i < (size_t)out_rank; ++i) capacity *= (size_t)out_dims[i];
  expected = read_floats(argv[3], capacity);
  out = (float*)calloc(capacity, sizeof(float));
  outputs[0] = out;
  --capacity;
  EXPECT(vx_session_run_into(session, 1, inputs, shapes, &rank, 1, outputs, &capacity) == VX_ERR_INVALID_ARGUMENT);
  ++capacity;
  EXPECT(vx_session_run_into(session, 1, inputs, shapes, &rank, 1, outputs, &capacity) == VX_OK);
  for (i = 0; i < capacity; ++i) {
    double e = fabs((double)out[i] - (double)expected[i]);
    if (e > max_err) max_err = e;
  }
  EXPECT(max_err < 1e-4);
  EXPECT(vx_session_run(session, 1, inputs, shapes, &rank, 1, &result) == VX_OK);
  EXPECT(vx_tensor_data(result, &result_data) == VX_OK);
  EXPECT(result_data != NULL && memcmp(result_data, out, capacity * sizeof(float)) == 0);
  EXPECT(vx_tensor_free(result) == VX_OK);
  EXPECT(vx_session_free(session) == VX_OK);
  EXPECT(vx_model_free(model) == VX_OK);
  EXPECT(vx_model_free(model) == VX_ERR_INVALID_ARGUMENT); /* documented: double free is an error */
  printf("c99 program: max |voxinfer - torch| = %g, %d failure(s)\n", max_err, c_test_failures);
  free(input);
  free(expected);
  free(out);
  return c_test_failures == 0 ? 0 : 1;
}
