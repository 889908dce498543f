/* The sized initialisers of the current header (strict C99): vx_X_options_init_sized(o, size)
 * writes the defaults for exactly `size` bytes, one of the struct's version sizes, and never
 * a byte past them; sizes that are no version's are refused without writing anything; and
 * the library reads a struct only up to its struct_size. Exits 0 when all holds, 1 on a
 * failure, 77 without the fixtures (CTest: Skipped). */
#define _POSIX_C_SOURCE 200809L /* getpid */
#include <unistd.h>

#include "voxinfer/voxinfer.h"
#include "c_test_common.h"

/* A struct of the newest layout with guard bytes after it; the whole is pre-filled. */
#define CHECK_SIZED(type, init_sized, v1)                                                       \
  do {                                                                                          \
    GUARDED(type) g;                                                                            \
    guard_fill(&g, sizeof g);                                                                   \
    EXPECT(init_sized(&g.o, (v1)) == VX_OK);                                                    \
    EXPECT(g.o.struct_size == (v1));                                                            \
    EXPECT(guard_damage(g.before, GUARD_SIZE) == 0);                                            \
    /* everything from byte v1 of the struct to the end of the guard is untouched */            \
    EXPECT(guard_damage((const unsigned char*)&g.o + (v1), sizeof g.o - (v1) + GUARD_SIZE) == 0); \
    guard_fill(&g, sizeof g);                                                                   \
    EXPECT(init_sized(&g.o, sizeof g.o) == VX_OK && g.o.struct_size == sizeof g.o);              \
    EXPECT(guard_damage(g.after, GUARD_SIZE) == 0);                                             \
    guard_fill(&g, sizeof g);                                                                   \
    EXPECT(init_sized(&g.o, (v1) - 8) == VX_ERR_INVALID_ARGUMENT);                              \
    EXPECT(init_sized(&g.o, 0) == VX_ERR_INVALID_ARGUMENT);                                     \
    EXPECT(init_sized(&g.o, sizeof g.o + 8) == VX_ERR_INVALID_ARGUMENT); /* a newer caller's */ \
    EXPECT(guard_damage(&g, sizeof g) == 0);                                                    \
    EXPECT(init_sized(NULL, sizeof g.o) == VX_ERR_INVALID_ARGUMENT);                            \
  } while (0)

static void every_struct(void) {
  CHECK_SIZED(vx_model_options, vx_model_options_init_sized, VX_MODEL_OPTIONS_SIZE_V1);
  CHECK_SIZED(vx_session_options, vx_session_options_init_sized, VX_SESSION_OPTIONS_SIZE_V1);
  CHECK_SIZED(vx_volume_read_options, vx_volume_read_options_init_sized, VX_VOLUME_READ_OPTIONS_SIZE_V1);
  CHECK_SIZED(vx_n4_options, vx_n4_options_init_sized, VX_N4_OPTIONS_SIZE_V1);
  CHECK_SIZED(vx_gradcam_options, vx_gradcam_options_init_sized, VX_GRADCAM_OPTIONS_SIZE_V1);
  CHECK_SIZED(vx_exam_options, vx_exam_options_init_sized, VX_EXAM_OPTIONS_SIZE_V1);
  CHECK_SIZED(vx_segment_options, vx_segment_options_init_sized, VX_SEGMENT_OPTIONS_SIZE_V1);
}

/* Version 2 of vx_exam_options: DICOM out and the read flags, all off by default. */
static void exam_v2(void) {
  vx_exam_options eo;
  EXPECT(vx_exam_options_init(&eo) == VX_OK);
  EXPECT(eo.struct_size == VX_EXAM_OPTIONS_SIZE_V2);
  EXPECT(eo.dicom_out == 0 && eo.resample_uneven_slices == 0 && eo.replace_non_finite == 0);
  EXPECT(eo.gradcam == 1 && eo.png == 1 && eo.denoise == 1);
}

/* Version 2 of vx_session_options: device_index, -1 by default, read only from a version-2 struct. */
static void session_v2(void) {
  vx_session_options so;
  vx_model* model = NULL;
  vx_session* session = NULL;
  EXPECT(vx_session_options_init(&so) == VX_OK); /* the static inline: this file's sizeof */
  EXPECT(so.struct_size == VX_SESSION_OPTIONS_SIZE_V2 && so.device_index == -1);
  EXPECT(vx_model_load(fixture("tiny3d.vxm"), NULL, &model) == VX_OK);
  so.device_index = -7;
  EXPECT(vx_session_create(model, &so, &session) == VX_ERR_INVALID_ARGUMENT && session == NULL);
  EXPECT(strstr(vx_last_error(), "device_index") != NULL);
  so.struct_size = VX_SESSION_OPTIONS_SIZE_V1; /* the same bytes as a version-1 caller: -7 is never read */
  EXPECT(vx_session_create(model, &so, &session) == VX_OK);
  EXPECT(vx_session_free(session) == VX_OK);
  so.struct_size = VX_SESSION_OPTIONS_SIZE_V1 + 4; /* no version's size */
  EXPECT(vx_session_create(model, &so, &session) == VX_ERR_INVALID_ARGUMENT);
  EXPECT(strstr(vx_last_error(), "struct_size") != NULL);
  EXPECT(vx_model_free(model) == VX_OK);
  EXPECT(strcmp(vx_status_name(VX_ERR_BUSY), "VX_ERR_BUSY") == 0);
}

/* Version 2 of vx_volume_read_options: resample_uneven_slices is accepted by vx_volume_read. */
static void volume_read_v2(void) {
  vx_volume_read_options ro;
  const float voxels[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const int64_t dims[3] = {2, 2, 2};
  vx_volume *vol = NULL, *back = NULL;
  char path[64];
  EXPECT(vx_volume_read_options_init(&ro) == VX_OK);
  EXPECT(ro.struct_size == VX_VOLUME_READ_OPTIONS_SIZE_V2 && ro.resample_uneven_slices == 0);
  EXPECT(vx_volume_create(voxels, dims, NULL, &vol) == VX_OK);
  snprintf(path, sizeof path, "/tmp/vx_abi_sized_%ld.nii", (long)getpid());
  EXPECT(vx_volume_write(vol, path) == VX_OK);
  ro.resample_uneven_slices = 1;
  EXPECT(vx_volume_read(path, &ro, &back) == VX_OK);
  EXPECT(vx_volume_free(back) == VX_OK);
  EXPECT(vx_volume_free(vol) == VX_OK);
  remove(path);
}

/* vx_segment_options: every default off / NULL; vx_segment checks its arguments before reading. */
static void segment_v1(void) {
  vx_segment_options so;
  const char* in[1] = {"x.nii.gz"};
  EXPECT(vx_segment_options_init(&so) == VX_OK);
  EXPECT(so.struct_size == VX_SEGMENT_OPTIONS_SIZE_V1 && so.folds == NULL && so.probabilities_path == NULL);
  EXPECT(so.progress == NULL && so.tile_step == 0 && so.memory_limit_bytes == 0);
  EXPECT(so.no_mirroring == 0 && so.fp32_accumulation == 0);
  EXPECT(vx_segment(NULL, in, 1, "o.nii.gz", &so) == VX_ERR_INVALID_ARGUMENT);
  EXPECT(vx_segment("m.vxm", in, 0, "o.nii.gz", &so) == VX_ERR_INVALID_ARGUMENT);
  EXPECT(vx_segment("m.vxm", in, 1, "o.png", &so) == VX_ERR_INVALID_ARGUMENT);
  so.struct_size = 8;
  EXPECT(vx_segment("m.vxm", in, 1, "o.nii.gz", &so) == VX_ERR_INVALID_ARGUMENT);
}

int main(void) {
  every_struct();
  segment_v1();
  session_v2();
  exam_v2();
  volume_read_v2();
  printf("abi_sized_test: %d failure(s)\n", c_test_failures);
  return c_test_failures == 0 ? 0 : 1;
}
