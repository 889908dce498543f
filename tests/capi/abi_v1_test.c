/* A caller built against API 100: compiled (strict C99) against the header of voxinfer 0.1.0
 * (abi_v1/voxinfer.h, whose option structs are version 1) and run against this library.
 * Every options struct sits between guard bytes; the exported vx_*_options_init of API 100
 * must fill exactly the caller's struct, and the library must read no byte past it while
 * it creates a session, runs the fixture model, reads a volume and runs N4 with them.
 * Exits 0 when all holds, 1 on a failure, 77 without the fixtures (CTest: Skipped). */
#define _POSIX_C_SOURCE 200809L /* getpid */
#include <math.h>
#include <unistd.h>

#include "abi_v1/voxinfer.h" /* the old header, found beside this file: never the current one */
#include "c_test_common.h"

/* The API 100 header's structs are the version-1 sizes (64-bit targets). */
typedef char check_session_v1[sizeof(vx_session_options) == 80 ? 1 : -1];
typedef char check_read_v1[sizeof(vx_volume_read_options) == 24 ? 1 : -1];

/* Guard bytes of g intact on both sides, and struct_size the caller's sizeof. */
#define EXPECT_GUARDS(g)                                              \
  do {                                                                \
    EXPECT(guard_damage((g).before, GUARD_SIZE) == 0);                \
    EXPECT(guard_damage((g).after, GUARD_SIZE) == 0);                 \
    EXPECT((g).o.struct_size == sizeof (g).o);                        \
  } while (0)

static void run_model(void) {
  GUARDED(vx_model_options) mo;
  GUARDED(vx_session_options) so;
  vx_model* model = NULL;
  vx_session* session = NULL;
  vx_tensor* result = NULL;
  const float* data = NULL;
  int64_t shape[5];
  const int64_t* shapes[1];
  const float* inputs[1];
  int32_t rank = 5;
  size_t n = 1, numel = 0, i;
  float *input, *expected;
  double max_err = 0;
  vx_status st;

  guard_fill(&mo, sizeof mo);
  EXPECT(vx_model_options_init(&mo.o) == VX_OK);
  EXPECT_GUARDS(mo);
  EXPECT(mo.o.expected_sha256 == NULL && mo.o.max_file_bytes == 0);
  EXPECT(vx_model_load(fixture("tiny3d.vxm"), &mo.o, &model) == VX_OK);

  guard_fill(&so, sizeof so);
  EXPECT(vx_session_options_init(&so.o) == VX_OK);
  EXPECT_GUARDS(so);
  EXPECT(so.o.threads == 0 && so.o.backend == NULL && so.o.deterministic == 0 && so.o.progress == NULL);
  so.o.threads = 1;
  so.o.deterministic = 1;
  /* The bytes after a version-1 struct (where version 2 keeps device_index) are guard bytes:
   * a library that read them would see device 0xA5A5A5A5. */
  so.o.backend = "cuda";
  st = vx_session_create(model, &so.o, &session);
  EXPECT(st == VX_OK || st == VX_ERR_BACKEND_UNAVAILABLE); /* no GPU here, or device 0 */
  EXPECT(strstr(vx_last_error(), "device_index") == NULL);
  EXPECT(vx_session_free(session) == VX_OK);
  session = NULL;
  so.o.backend = "cpu";
  EXPECT(vx_session_create(model, &so.o, &session) == VX_OK);
  EXPECT_GUARDS(so);

  tiny3d_shape(shape);
  for (i = 0; i < 5; ++i) n *= (size_t)shape[i];
  input = read_floats(fixture("tiny3d_in0.f32"), n);
  shapes[0] = shape;
  inputs[0] = input;
  EXPECT(vx_session_run(session, 1, inputs, shapes, &rank, 1, &result) == VX_OK);
  EXPECT(vx_tensor_numel(result, &numel) == VX_OK && numel > 0);
  EXPECT(vx_tensor_data(result, &data) == VX_OK);
  expected = read_floats(fixture("tiny3d_out0.f32"), numel);
  for (i = 0; data && i < numel; ++i)
    if (fabs((double)data[i] - (double)expected[i]) > max_err) max_err = fabs((double)data[i] - (double)expected[i]);
  EXPECT(max_err < 1e-4); /* against PyTorch, as c99_program.c */
  printf("v1 caller: tiny3d max |voxinfer - torch| = %g\n", max_err);
  EXPECT(vx_tensor_free(result) == VX_OK);
  EXPECT(vx_session_free(session) == VX_OK);
  EXPECT(vx_model_free(model) == VX_OK);
  free(input);
  free(expected);
}

static void read_and_n4(void) {
  GUARDED(vx_volume_read_options) ro;
  GUARDED(vx_n4_options) no;
  float voxels[4 * 5 * 6];
  const int64_t dims[3] = {4, 5, 6};
  vx_volume *vol = NULL, *back = NULL, *corrected = NULL;
  const float* data = NULL;
  char path[64];
  size_t i;
  for (i = 0; i < sizeof voxels / sizeof voxels[0]; ++i) voxels[i] = 1.0f + (float)(i % 7);
  voxels[3] = (float)NAN; /* replace_non_finite decides what reading this gives */
  EXPECT(vx_volume_create(voxels, dims, NULL, &vol) == VX_OK);
  snprintf(path, sizeof path, "/tmp/vx_abi_v1_%ld.nii", (long)getpid());
  EXPECT(vx_volume_write(vol, path) == VX_OK);

  guard_fill(&ro, sizeof ro);
  EXPECT(vx_volume_read_options_init(&ro.o) == VX_OK);
  EXPECT_GUARDS(ro);
  EXPECT(ro.o.max_bytes == 0 && ro.o.replace_non_finite == 0);
  EXPECT(vx_volume_read(path, &ro.o, &back) == VX_ERR_CORRUPT_FILE); /* the default refuses NaN */
  ro.o.replace_non_finite = 1;
  EXPECT(vx_volume_read(path, &ro.o, &back) == VX_OK);
  EXPECT(vx_volume_data(back, &data) == VX_OK && data && data[3] == 0.0f && data[4] == voxels[4]);
  EXPECT_GUARDS(ro);

  guard_fill(&no, sizeof no);
  EXPECT(vx_n4_options_init(&no.o) == VX_OK);
  EXPECT_GUARDS(no);
  EXPECT(no.o.iterations_count == 4 && no.o.iterations[0] == 50 && no.o.histogram_bins == 200);
  no.o.iterations_count = 1;
  no.o.iterations[0] = 3;
  EXPECT(vx_volume_n4(back, &no.o, &corrected, NULL) == VX_OK && corrected != NULL);
  EXPECT_GUARDS(no);

  EXPECT(vx_volume_free(corrected) == VX_OK);
  EXPECT(vx_volume_free(back) == VX_OK);
  EXPECT(vx_volume_free(vol) == VX_OK);
  remove(path);
}

static int count_steps(void* user, const char* stage, int64_t done, int64_t total) {
  (void)stage, (void)done, (void)total;
  ++*(int*)user;
  return 0;
}

/* The shipped demo models on the sample examination, with the version-1 options: no Grad-CAM,
 * no denoiser, progress counted, so every field the library reads shows in what it does. */
static void run_exam(vx_exam_options* o) {
  const char* src = getenv("VX_SOURCE_DIR");
  char models[4096], t1[4096], t2[4096], out[128], report[256], cam[256], cmd[160];
  const char* inputs[2];
  const char* json = NULL;
  vx_exam* exam = NULL;
  int steps = 0;
  FILE* f;
  if (!src) return;
  snprintf(models, sizeof models, "%s/weights", src);
  snprintf(t1, sizeof t1, "%s/examples/data/spine-cervical-sct/t1w.nii.gz", src);
  snprintf(t2, sizeof t2, "%s/examples/data/spine-cervical-sct/t2.nii.gz", src);
  snprintf(out, sizeof out, "/tmp/vx_abi_v1_exam_%ld", (long)getpid());
  inputs[0] = t1;
  inputs[1] = t2;
  o->gradcam = 0;
  o->denoise = 0;
  o->progress = count_steps;
  o->progress_user = &steps;
  EXPECT(vx_exam_create(models, &exam) == VX_OK);
  EXPECT(vx_exam_run(exam, inputs, 2, out, o, &json) == VX_OK);
  EXPECT(json != NULL && strstr(json, "probabilities") != NULL);
  EXPECT(steps > 0);
  snprintf(report, sizeof report, "%s/report.json", out);
  snprintf(cam, sizeof cam, "%s/t1_gradcam.nii.gz", out);
  EXPECT((f = fopen(report, "rb")) != NULL);
  if (f) fclose(f);
  EXPECT((f = fopen(cam, "rb")) == NULL); /* gradcam = 0 was read */
  if (f) fclose(f);
  EXPECT(vx_exam_free(exam) == VX_OK);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
  EXPECT(system(cmd) == 0);
}

static void gradcam_and_exam(void) {
  GUARDED(vx_gradcam_options) go;
  GUARDED(vx_exam_options) eo;
  guard_fill(&go, sizeof go);
  EXPECT(vx_gradcam_options_init(&go.o) == VX_OK);
  EXPECT_GUARDS(go);
  EXPECT(go.o.method == VX_CAM_GRADCAM && go.o.layer == NULL && go.o.target_class == -1 && go.o.align_corners == -1);
  guard_fill(&eo, sizeof eo);
  EXPECT(vx_exam_options_init(&eo.o) == VX_OK);
  EXPECT_GUARDS(eo);
  EXPECT(eo.o.gradcam == 1 && eo.o.png == 1 && eo.o.denoise == 1 && eo.o.threads == 0 && eo.o.progress == NULL);
  run_exam(&eo.o);
  EXPECT_GUARDS(eo);
}

int main(void) {
  run_model();
  read_and_n4();
  gradcam_and_exam();
  printf("abi_v1_test: library %s, %d failure(s)\n", vx_version(), c_test_failures);
  return c_test_failures == 0 ? 0 : 1;
}
