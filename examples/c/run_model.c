/* Loads a model, runs it on a raw float32 volume, writes the first output as raw float32.
 * Usage: run_model MODEL.vxm INPUT.f32 OUTPUT.f32 N C D H W        (C99, public header only) */
#include <stdio.h>
#include <stdlib.h>

#include "voxinfer/voxinfer.h"

static int fail(const char* what) {
  fprintf(stderr, "%s: %s\n", what, vx_last_error());
  return 1;
}

int main(int argc, char** argv) {
  vx_model* model = NULL;
  vx_session* session = NULL;
  vx_tensor* out = NULL;
  int64_t shape[5];
  const int64_t* shapes[1];
  int32_t rank = 5;
  const float* inputs[1];
  const float* result = NULL;
  size_t n = 1, numel = 0;
  float* input;
  FILE* f;
  int i;
  if (argc != 9) {
    fprintf(stderr, "usage: %s MODEL.vxm INPUT.f32 OUTPUT.f32 N C D H W\n", argv[0]);
    return 2;
  }
  for (i = 0; i < 5; ++i) n *= (size_t)(shape[i] = atoll(argv[4 + i]));
  input = (float*)malloc(n * sizeof(float));
  f = fopen(argv[2], "rb");
  if (!input || !f || fread(input, sizeof(float), n, f) != n) return fprintf(stderr, "cannot read %s\n", argv[2]), 1;
  fclose(f);

  if (vx_model_load(argv[1], NULL, &model) != VX_OK) return fail("load");
  if (vx_session_create(model, NULL, &session) != VX_OK) return fail("session");
  shapes[0] = shape;
  inputs[0] = input;
  if (vx_session_run(session, 1, inputs, shapes, &rank, 1, &out) != VX_OK) return fail("run");
  if (vx_tensor_data(out, &result) != VX_OK || vx_tensor_numel(out, &numel) != VX_OK) return fail("output");
  f = fopen(argv[3], "wb");
  if (!f || fwrite(result, sizeof(float), numel, f) != numel) return fprintf(stderr, "cannot write %s\n", argv[3]), 1;
  fclose(f);
  printf("voxinfer %s: wrote %lu floats to %s\n", vx_version(), (unsigned long)numel, argv[3]);
  if (vx_tensor_free(out) != VX_OK || vx_session_free(session) != VX_OK || vx_model_free(model) != VX_OK)
    return fail("free");
  free(input);
  return 0;
}
