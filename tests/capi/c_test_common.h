/* Helpers shared by the C test programs (c99_program.c, abi_v1_test.c, abi_sized_test.c): expectations,
 * guard bytes around a struct, and the fixture model's files. C99; include it after a voxinfer.h
 * (the current one or an older copy), whose vx_last_error it uses. */
#ifndef VX_C_TEST_COMMON_H
#define VX_C_TEST_COMMON_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int c_test_failures = 0;
#define EXPECT(cond)                                                              \
  do {                                                                            \
    if (!(cond)) {                                                                \
      fprintf(stderr, "%s:%d: %s failed (last error: %s)\n", __FILE__, __LINE__, #cond, \
              vx_last_error());                                                   \
      ++c_test_failures;                                                             \
    }                                                                             \
  } while (0)

#define GUARD_BYTE 0xA5
#define GUARD_SIZE 64

/* An options struct between two runs of guard bytes: `GUARDED(vx_session_options) g;`. */
#define GUARDED(type)                          \
  struct {                                     \
    unsigned char before[GUARD_SIZE];          \
    type o;                                    \
    unsigned char after[GUARD_SIZE];           \
  }

/* Fills [p, p + n) with guard bytes. */
static inline void guard_fill(void* p, size_t n) { memset(p, GUARD_BYTE, n); }

/* Number of bytes in [p, p + n) that are no longer guard bytes. */
static inline size_t guard_damage(const void* p, size_t n) {
  const unsigned char* b = (const unsigned char*)p;
  size_t i, bad = 0;
  for (i = 0; i < n; ++i) bad += b[i] != GUARD_BYTE;
  return bad;
}

/* $VX_FIXTURE_DIR/capi/NAME, or exit 77 (skip) when the fixtures are not there. */
static inline const char* fixture(const char* name) {
  static char path[4][4096];
  static int next = 0;
  const char* dir = getenv("VX_FIXTURE_DIR");
  char* out = path[next++ % 4];
  FILE* f;
  if (!dir) {
    fprintf(stderr, "VX_FIXTURE_DIR is not set: skipped\n");
    exit(77);
  }
  snprintf(out, sizeof path[0], "%s/capi/%s", dir, name);
  f = fopen(out, "rb");
  if (!f) {
    fprintf(stderr, "fixture %s is missing: skipped\n", out);
    exit(77);
  }
  fclose(f);
  return out;
}

static inline float* read_floats(const char* path, size_t n) {
  float* buf = (float*)malloc(n * sizeof(float));
  FILE* f = fopen(path, "rb");
  if (!buf || !f || fread(buf, sizeof(float), n, f) != n) {
    fprintf(stderr, "cannot read %lu floats from %s\n", (unsigned long)n, path);
    exit(2);
  }
  fclose(f);
  return buf;
}

/* The input shape of the tiny3d fixture, from tiny3d.json ({"inputs": [[N, C, D, H, W]], ...}). */
static inline void tiny3d_shape(int64_t shape[5]) {
  char text[512] = {0};
  long long d[5];
  FILE* f = fopen(fixture("tiny3d.json"), "rb");
  if (!f || fread(text, 1, sizeof text - 1, f) == 0 ||
      sscanf(text, " {\"inputs\": [[%lld, %lld, %lld, %lld, %lld]]", &d[0], &d[1], &d[2], &d[3], &d[4]) != 5) {
    fprintf(stderr, "cannot parse tiny3d.json\n");
    exit(2);
  }
  fclose(f);
  shape[0] = d[0], shape[1] = d[1], shape[2] = d[2], shape[3] = d[3], shape[4] = d[4];
}

#endif
