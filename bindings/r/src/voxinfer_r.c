/* .Call shim over the voxinfer C API. R arrays are column-major with dim = c(W, H, D, C, N):
 * the same bytes order as the library's row-major N, C, D, H, W, so shapes are reversed and
 * data is only converted double <-> float, never transposed. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>

#include "voxinfer/voxinfer.h"

typedef struct {
  vx_model* model;
  vx_session* session;
} vxr_handle;

/* An R error naming the failure, the library's message and the status (e.g. VX_ERR_BUSY). */
static void vxr_check(vx_status status, const char* what) {
  char msg[1024];
  if (status == VX_OK) return;
  snprintf(msg, sizeof msg, "%s: %s [%s]", what, vx_last_error(), vx_status_name(status));
  Rf_error("%s", msg);
}

/* Frees in finalizers and on error paths cannot report (an R error there would unwind
 * through R's collector, or hide the first error): their status is dropped on purpose. */
static void vxr_drop(vx_status status) { (void)status; }

static void vxr_finalize(SEXP ptr) {
  vxr_handle* h = (vxr_handle*)R_ExternalPtrAddr(ptr);
  if (!h) return;
  vxr_drop(vx_session_free(h->session));
  vxr_drop(vx_model_free(h->model));
  free(h);
  R_ClearExternalPtr(ptr);
}

static vxr_handle* vxr_get(SEXP ptr) {
  vxr_handle* h = TYPEOF(ptr) == EXTPTRSXP ? (vxr_handle*)R_ExternalPtrAddr(ptr) : NULL;
  if (!h) Rf_error("voxinfer: the model handle is not valid (freed, or restored from a saved session)");
  return h;
}

static SEXP vxr_version(void) { return Rf_mkString(vx_version()); }

static SEXP vxr_load(SEXP path, SEXP threads) {
  vx_model* model = NULL;
  vx_session* session = NULL;
  vx_session_options so;
  vxr_handle* h;
  SEXP ptr;
  if (!Rf_isString(path) || Rf_length(path) != 1) Rf_error("path must be one string");
  vxr_check(vx_model_load(CHAR(STRING_ELT(path, 0)), NULL, &model), "voxinfer: cannot load model");
  vxr_check(vx_session_options_init(&so), "voxinfer: session options init");
  so.threads = Rf_asInteger(threads);
  if (vx_session_create(model, &so, &session) != VX_OK) {
    char msg[1024];
    snprintf(msg, sizeof msg, "voxinfer: cannot create a session: %s", vx_last_error());
    vxr_drop(vx_model_free(model));
    Rf_error("%s", msg);
  }
  h = (vxr_handle*)malloc(sizeof *h);
  if (!h) {
    vxr_drop(vx_session_free(session));
    vxr_drop(vx_model_free(model));
    Rf_error("voxinfer: out of memory");
  }
  h->model = model;
  h->session = session;
  ptr = PROTECT(R_MakeExternalPtr(h, Rf_install("voxinfer_model"), R_NilValue));
  R_RegisterCFinalizerEx(ptr, vxr_finalize, TRUE);
  UNPROTECT(1);
  return ptr;
}

static SEXP vxr_info(SEXP ptr) {
  vxr_handle* h = vxr_get(ptr);
  size_t n_in = 0, n_out = 0, i;
  const char* s = NULL;
  SEXP out, names, inputs, outputs, shapes;
  int64_t dims[VX_MAX_RANK];
  int32_t rank = 0, d;
  vxr_check(vx_model_num_inputs(h->model, &n_in) != VX_OK || vx_model_num_outputs(h->model, &n_out), "voxinfer");
  out = PROTECT(Rf_allocVector(VECSXP, 5));
  names = PROTECT(Rf_allocVector(STRSXP, 5));
  inputs = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)n_in));
  shapes = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)n_in));
  for (i = 0; i < n_in; ++i) {
    SEXP sh;
    vxr_check(vx_model_input_name(h->model, i, &s) != VX_OK || vx_model_input_shape(h->model, i, dims, &rank), "voxinfer");
    SET_STRING_ELT(inputs, (R_xlen_t)i, Rf_mkChar(s));
    sh = Rf_allocVector(REALSXP, rank); /* N, C, D, H, W order; -1 = free */
    SET_VECTOR_ELT(shapes, (R_xlen_t)i, sh);
    for (d = 0; d < rank; ++d) REAL(sh)[d] = (double)dims[d];
  }
  outputs = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)n_out));
  for (i = 0; i < n_out; ++i) {
    vxr_check(vx_model_output_name(h->model, i, &s), "voxinfer");
    SET_STRING_ELT(outputs, (R_xlen_t)i, Rf_mkChar(s));
  }
  SET_VECTOR_ELT(out, 0, inputs);
  SET_VECTOR_ELT(out, 1, outputs);
  SET_VECTOR_ELT(out, 2, shapes);
  vxr_check(vx_model_sha256(h->model, &s), "voxinfer");
  SET_VECTOR_ELT(out, 3, Rf_mkString(s));
  vxr_check(vx_model_metadata_json(h->model, &s), "voxinfer");
  SET_VECTOR_ELT(out, 4, Rf_mkString(s));
  SET_STRING_ELT(names, 0, Rf_mkChar("inputs"));
  SET_STRING_ELT(names, 1, Rf_mkChar("outputs"));
  SET_STRING_ELT(names, 2, Rf_mkChar("input_shapes"));
  SET_STRING_ELT(names, 3, Rf_mkChar("sha256"));
  SET_STRING_ELT(names, 4, Rf_mkChar("metadata_json"));
  Rf_setAttrib(out, R_NamesSymbol, names);
  UNPROTECT(5);
  return out;
}

static SEXP vxr_predict(SEXP ptr, SEXP inputs) {
  vxr_handle* h = vxr_get(ptr);
  size_t n_in = (size_t)Rf_length(inputs), n_out = 0, i, j;
  const float** data;
  int64_t* shape_store;
  const int64_t** shapes;
  int32_t* ranks;
  vx_tensor** tensors;
  vx_status st;
  SEXP result;
  if (TYPEOF(inputs) != VECSXP) Rf_error("inputs must be a list of arrays");
  vxr_check(vx_model_num_outputs(h->model, &n_out), "voxinfer");
  /* R_alloc memory is released by R, also when Rf_error unwinds. */
  data = (const float**)R_alloc(n_in ? n_in : 1, sizeof(float*));
  shape_store = (int64_t*)R_alloc((n_in ? n_in : 1) * VX_MAX_RANK, sizeof(int64_t));
  shapes = (const int64_t**)R_alloc(n_in ? n_in : 1, sizeof(int64_t*));
  ranks = (int32_t*)R_alloc(n_in ? n_in : 1, sizeof(int32_t));
  for (i = 0; i < n_in; ++i) {
    SEXP a = VECTOR_ELT(inputs, (R_xlen_t)i), dim = Rf_getAttrib(a, R_DimSymbol);
    R_xlen_t k, n = Rf_xlength(a);
    int r = Rf_length(dim), d;
    float* f;
    if (TYPEOF(a) != REALSXP) Rf_error("input %d must be a double array", (int)i + 1);
    if (r < 1 || r > VX_MAX_RANK) Rf_error("input %d must have 1 to 5 dimensions, has %d", (int)i + 1, r);
    for (d = 0; d < r; ++d) shape_store[i * VX_MAX_RANK + d] = (int64_t)INTEGER(dim)[r - 1 - d];
    shapes[i] = shape_store + i * VX_MAX_RANK;
    ranks[i] = r;
    f = (float*)R_alloc((size_t)(n ? n : 1), sizeof(float));
    for (k = 0; k < n; ++k) f[k] = (float)REAL(a)[k];
    data[i] = f;
  }
  tensors = (vx_tensor**)R_alloc(n_out ? n_out : 1, sizeof(vx_tensor*));
  st = vx_session_run(h->session, n_in, data, shapes, ranks, n_out, tensors);
  vxr_check(st, "voxinfer: run failed");
  result = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)n_out));
  for (j = 0; j < n_out; ++j) {
    int64_t dims[VX_MAX_RANK];
    int32_t rank = 0, d;
    const float* src = NULL;
    size_t numel = 0, k;
    SEXP arr, rdim;
    vxr_check(vx_tensor_shape(tensors[j], dims, &rank), "voxinfer: tensor shape");
    vxr_check(vx_tensor_data(tensors[j], &src), "voxinfer: tensor data");
    vxr_check(vx_tensor_numel(tensors[j], &numel), "voxinfer: tensor numel");
    arr = Rf_allocVector(REALSXP, (R_xlen_t)numel);
    SET_VECTOR_ELT(result, (R_xlen_t)j, arr);
    for (k = 0; k < numel; ++k) REAL(arr)[k] = (double)src[k];
    rdim = PROTECT(Rf_allocVector(INTSXP, rank));
    for (d = 0; d < rank; ++d) INTEGER(rdim)[d] = (int)dims[rank - 1 - d];
    Rf_setAttrib(arr, R_DimSymbol, rdim);
    UNPROTECT(1);
  }
  for (j = 0; j < n_out; ++j) vxr_drop(vx_tensor_free(tensors[j]));
  UNPROTECT(1);
  return result;
}

/* read_volume: list(data = array dim c(nx, ny, nz), affine = 4x4 matrix). The library's
 * buffer is x fastest, which is R's column-major order for dim c(nx, ny, nz): a plain copy. */
/* Frees a vx_volume held by an external pointer (used so an R error cannot leak it). */
static void vxr_volume_finalize(SEXP ptr) {
  vxr_drop(vx_volume_free((vx_volume*)R_ExternalPtrAddr(ptr)));
  R_ClearExternalPtr(ptr);
}

/* list(data = array dim c(nx, ny, nz), affine = 4x4 matrix) copied from v; v stays the caller's.
 * Returns an unprotected value. */
static SEXP vxr_volume_as_list(const vx_volume* v) {
  int64_t dims[3];
  double affine[16];
  const float* src = NULL;
  size_t n, k;
  int r, c;
  SEXP out, names, data, rdim, aff, adim;
  vxr_check(vx_volume_dims(v, dims) != VX_OK || vx_volume_affine(v, affine) != VX_OK || vx_volume_data(v, &src), "voxinfer");
  if (dims[0] > INT_MAX || dims[1] > INT_MAX || dims[2] > INT_MAX)
    Rf_error("voxinfer: volume dimensions too large for R");
  n = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
  data = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)n));
  for (k = 0; k < n; ++k) REAL(data)[k] = (double)src[k];
  rdim = PROTECT(Rf_allocVector(INTSXP, 3));
  for (k = 0; k < 3; ++k) INTEGER(rdim)[k] = (int)dims[k];
  Rf_setAttrib(data, R_DimSymbol, rdim);
  aff = PROTECT(Rf_allocVector(REALSXP, 16));
  for (r = 0; r < 4; ++r)
    for (c = 0; c < 4; ++c) REAL(aff)[c * 4 + r] = affine[r * 4 + c]; /* row-major -> column-major */
  adim = PROTECT(Rf_allocVector(INTSXP, 2));
  INTEGER(adim)[0] = 4;
  INTEGER(adim)[1] = 4;
  Rf_setAttrib(aff, R_DimSymbol, adim);
  out = PROTECT(Rf_allocVector(VECSXP, 2));
  names = PROTECT(Rf_allocVector(STRSXP, 2));
  SET_VECTOR_ELT(out, 0, data);
  SET_VECTOR_ELT(out, 1, aff);
  SET_STRING_ELT(names, 0, Rf_mkChar("data"));
  SET_STRING_ELT(names, 1, Rf_mkChar("affine"));
  Rf_setAttrib(out, R_NamesSymbol, names);
  UNPROTECT(6);
  return out;
}

/* `list` (data, affine) with a third element, warnings: the reader's warnings about v (a
 * character vector, empty when none). Returns an unprotected value. */
static SEXP vxr_with_warnings(SEXP list, const vx_volume* v) {
  size_t n = 0, k;
  const char* text = NULL;
  SEXP out, names, w;
  PROTECT(list);
  vxr_check(vx_volume_warning_count(v, &n), "voxinfer: volume warnings");
  w = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)n));
  for (k = 0; k < n; ++k) {
    vxr_check(vx_volume_warning(v, k, &text), "voxinfer: volume warning");
    SET_STRING_ELT(w, (R_xlen_t)k, Rf_mkCharCE(text, CE_UTF8));
  }
  out = PROTECT(Rf_allocVector(VECSXP, 3));
  names = PROTECT(Rf_allocVector(STRSXP, 3));
  for (k = 0; k < 2; ++k) {
    SET_VECTOR_ELT(out, (R_xlen_t)k, VECTOR_ELT(list, (R_xlen_t)k));
    SET_STRING_ELT(names, (R_xlen_t)k, STRING_ELT(Rf_getAttrib(list, R_NamesSymbol), (R_xlen_t)k));
  }
  SET_VECTOR_ELT(out, 2, w);
  SET_STRING_ELT(names, 2, Rf_mkChar("warnings"));
  Rf_setAttrib(out, R_NamesSymbol, names);
  UNPROTECT(4);
  return out;
}

/* An external pointer that frees the vx_volume it holds when R collects it (or on an R error). */
static SEXP vxr_volume_guard(void) {
  SEXP guard = R_MakeExternalPtr(NULL, R_NilValue, R_NilValue);
  R_RegisterCFinalizerEx(guard, vxr_volume_finalize, TRUE);
  return guard;
}

static SEXP vxr_read_volume(SEXP path, SEXP resample_uneven_slices) {
  vx_volume* v = NULL;
  vx_volume_read_options o;
  SEXP guard, out;
  if (!Rf_isString(path) || Rf_length(path) != 1) Rf_error("path must be one string");
  vxr_check(vx_volume_read_options_init(&o), "voxinfer: volume read options init");
  o.resample_uneven_slices = Rf_asLogical(resample_uneven_slices) == TRUE;
  guard = PROTECT(vxr_volume_guard());
  vxr_check(vx_volume_read(CHAR(STRING_ELT(path, 0)), &o, &v), "voxinfer: cannot read volume");
  R_SetExternalPtrAddr(guard, v); /* from here on, an R error frees v through the finalizer */
  out = PROTECT(vxr_with_warnings(vxr_volume_as_list(v), v));
  vxr_drop(vx_volume_free(v));
  R_ClearExternalPtr(guard);
  UNPROTECT(2);
  return out;
}

/* n4: x is a path (string) or an array with dim c(nx, ny, nz) plus `affine` (4x4 or NULL).
 * Returns list(corrected = list(data, affine), bias = list(data, affine)). */
static SEXP vxr_n4(SEXP x, SEXP affine, SEXP shrink, SEXP iterations, SEXP otsu) {
  vx_volume *in = NULL, *cor = NULL, *bias = NULL;
  vx_n4_options o;
  SEXP g_in, g_cor, g_bias, its, out, names;
  int k, n_it;
  g_in = PROTECT(vxr_volume_guard());
  g_cor = PROTECT(vxr_volume_guard());
  g_bias = PROTECT(vxr_volume_guard());
  if (Rf_isString(x)) {
    if (Rf_length(x) != 1) Rf_error("x must be one path or an array");
    vxr_check(vx_volume_read(CHAR(STRING_ELT(x, 0)), NULL, &in), "voxinfer: cannot read volume");
  } else {
    SEXP dim = Rf_getAttrib(x, R_DimSymbol);
    int64_t dims[3];
    double aff[16];
    float* buf;
    R_xlen_t i, n = Rf_xlength(x);
    if (!Rf_isReal(x) && !Rf_isInteger(x)) Rf_error("x must be a path or a numeric array with dim c(nx, ny, nz)");
    if (Rf_length(dim) != 3) Rf_error("x must have dim c(nx, ny, nz)");
    for (k = 0; k < 3; ++k) dims[k] = INTEGER(dim)[k];
    buf = (float*)R_alloc((size_t)(n ? n : 1), sizeof(float));
    for (i = 0; i < n; ++i) buf[i] = (float)(Rf_isReal(x) ? REAL(x)[i] : (double)INTEGER(x)[i]);
    if (!Rf_isNull(affine)) {
      int r, c;
      if (!Rf_isReal(affine) || Rf_length(affine) != 16) Rf_error("affine must be a 4x4 numeric matrix or NULL");
      for (r = 0; r < 4; ++r)
        for (c = 0; c < 4; ++c) aff[r * 4 + c] = REAL(affine)[c * 4 + r]; /* column-major -> row-major */
    }
    vxr_check(vx_volume_create(buf, dims, Rf_isNull(affine) ? NULL : aff, &in), "voxinfer: bad volume");
  }
  R_SetExternalPtrAddr(g_in, in);
  vxr_check(vx_n4_options_init(&o), "voxinfer: n4 options init");
  o.shrink_factor = Rf_asInteger(shrink);
  its = PROTECT(Rf_coerceVector(iterations, INTSXP));
  n_it = Rf_length(its);
  if (n_it < 1 || n_it > VX_N4_MAX_LEVELS) Rf_error("iterations must have 1 to %d levels", VX_N4_MAX_LEVELS);
  for (k = 0; k < n_it; ++k) o.iterations[k] = INTEGER(its)[k];
  o.iterations_count = n_it;
  o.use_otsu_mask = Rf_asLogical(otsu) == TRUE;
  vxr_check(vx_volume_n4(in, &o, &cor, &bias), "voxinfer: n4 failed");
  R_SetExternalPtrAddr(g_cor, cor);
  R_SetExternalPtrAddr(g_bias, bias);
  out = PROTECT(Rf_allocVector(VECSXP, 2));
  SET_VECTOR_ELT(out, 0, vxr_volume_as_list(cor));
  SET_VECTOR_ELT(out, 1, vxr_volume_as_list(bias));
  names = PROTECT(Rf_allocVector(STRSXP, 2));
  SET_STRING_ELT(names, 0, Rf_mkChar("corrected"));
  SET_STRING_ELT(names, 1, Rf_mkChar("bias"));
  Rf_setAttrib(out, R_NamesSymbol, names);
  UNPROTECT(6); /* the guards free in, cor and bias when R collects them */
  return out;
}

/* Converts an R list of arrays (dim c(W, H, D, C, N)) into the C API's input arrays (R_alloc). */
static void vxr_inputs(SEXP inputs, size_t n_in, const float** data, const int64_t** shapes, int32_t* ranks) {
  int64_t* shape_store = (int64_t*)R_alloc((n_in ? n_in : 1) * VX_MAX_RANK, sizeof(int64_t));
  size_t i;
  for (i = 0; i < n_in; ++i) {
    SEXP a = VECTOR_ELT(inputs, (R_xlen_t)i), dim = Rf_getAttrib(a, R_DimSymbol);
    R_xlen_t k, n = Rf_xlength(a);
    int r = Rf_length(dim), d;
    float* f;
    if (TYPEOF(a) != REALSXP) Rf_error("input %d must be a double array", (int)i + 1);
    if (r < 1 || r > VX_MAX_RANK) Rf_error("input %d must have 1 to 5 dimensions, has %d", (int)i + 1, r);
    for (d = 0; d < r; ++d) shape_store[i * VX_MAX_RANK + d] = (int64_t)INTEGER(dim)[r - 1 - d];
    shapes[i] = shape_store + i * VX_MAX_RANK;
    ranks[i] = r;
    f = (float*)R_alloc((size_t)(n ? n : 1), sizeof(float));
    for (k = 0; k < n; ++k) f[k] = (float)REAL(a)[k];
    data[i] = f;
  }
}

/* Map handles of one vxr_gradcam call, owned by an external pointer: if an R allocation
 * fails (longjmp), the garbage collector's finalizer frees them; else the call does. */
typedef struct {
  size_t count;
  vx_tensor* maps[1]; /* count (at least 1) entries */
} vxr_maps;

static void vxr_maps_finalize(SEXP ptr) {
  vxr_maps* m = (vxr_maps*)R_ExternalPtrAddr(ptr);
  size_t j;
  if (!m) return;
  for (j = 0; j < m->count; ++j) vxr_drop(vx_tensor_free(m->maps[j]));
  free(m);
  R_ClearExternalPtr(ptr);
}

/* gradcam: list(maps = list of arrays dim c(W, H, D) (c(W, H, D, N) for N > 1), target, raw_max). */
static SEXP vxr_gradcam(SEXP ptr, SEXP inputs, SEXP target, SEXP method) {
  vxr_handle* h = vxr_get(ptr);
  size_t n_in = (size_t)Rf_length(inputs), room = 0, n_maps = 0, j;
  const float** data;
  const int64_t** shapes;
  int32_t* ranks;
  vx_tensor** maps;
  int64_t* classes;
  float* raw;
  int64_t batch;
  vx_gradcam_options o;
  vx_status st;
  vxr_maps* held;
  SEXP guard, out, names, rmaps, rtarget, rraw;
  if (TYPEOF(inputs) != VECSXP || n_in == 0) Rf_error("inputs must be a non-empty list of arrays");
  vxr_check(vx_gradcam_options_init(&o), "voxinfer: gradcam options init");
  o.target_class = (int64_t)Rf_asInteger(target);
  o.method = Rf_asInteger(method);
  data = (const float**)R_alloc(n_in, sizeof(float*));
  shapes = (const int64_t**)R_alloc(n_in, sizeof(int64_t*));
  ranks = (int32_t*)R_alloc(n_in, sizeof(int32_t));
  vxr_inputs(inputs, n_in, data, shapes, ranks);
  batch = shapes[0][0];
  vxr_check(vx_session_gradcam_num_maps(h->session, &o, &room), "voxinfer: gradcam failed");
  if (room == 0) room = 1;
  held = (vxr_maps*)calloc(1, sizeof(vxr_maps) + room * sizeof(vx_tensor*));
  if (!held) Rf_error("voxinfer: out of memory");
  guard = PROTECT(R_MakeExternalPtr(held, R_NilValue, R_NilValue)); /* owns `held` from here on */
  R_RegisterCFinalizerEx(guard, vxr_maps_finalize, TRUE);
  maps = held->maps;
  classes = (int64_t*)R_alloc((size_t)batch, sizeof(int64_t));
  raw = (float*)R_alloc(room * (size_t)batch, sizeof(float));
  st = vx_session_gradcam(h->session, n_in, data, shapes, ranks, &o, room, maps, &n_maps, classes, raw);
  vxr_check(st, "voxinfer: gradcam failed");
  held->count = n_maps;
  rmaps = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)n_maps));
  for (j = 0; j < n_maps; ++j) {
    /* [N, 1, (D,) H, W] row-major -> dim c(W, H, (D,)) or c(W, H, (D,) N): drop C = 1 (and N = 1) */
    int64_t dims[VX_MAX_RANK];
    int32_t r = 0;
    int d, nd = 0;
    size_t numel = 0, k;
    const float* src = NULL;
    SEXP arr, rdim;
    vxr_check(vx_tensor_shape(maps[j], dims, &r), "voxinfer: tensor shape");
    vxr_check(vx_tensor_numel(maps[j], &numel), "voxinfer: tensor numel");
    vxr_check(vx_tensor_data(maps[j], &src), "voxinfer: tensor data");
    arr = Rf_allocVector(REALSXP, (R_xlen_t)numel);
    SET_VECTOR_ELT(rmaps, (R_xlen_t)j, arr);
    for (k = 0; k < numel; ++k) REAL(arr)[k] = (double)src[k];
    rdim = PROTECT(Rf_allocVector(INTSXP, batch > 1 ? r - 1 : r - 2));
    for (d = r - 1; d >= 2; --d) INTEGER(rdim)[nd++] = (int)dims[d];
    if (batch > 1) INTEGER(rdim)[nd++] = (int)dims[0];
    Rf_setAttrib(arr, R_DimSymbol, rdim);
    UNPROTECT(1);
  }
  vxr_maps_finalize(guard); /* done with the handles: free them now */
  rtarget = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)batch));
  for (j = 0; j < (size_t)batch; ++j) INTEGER(rtarget)[j] = (int)classes[j];
  rraw = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)(n_maps * (size_t)batch)));
  for (j = 0; j < n_maps * (size_t)batch; ++j) REAL(rraw)[j] = (double)raw[j];
  out = PROTECT(Rf_allocVector(VECSXP, 3));
  names = PROTECT(Rf_allocVector(STRSXP, 3));
  SET_VECTOR_ELT(out, 0, rmaps);
  SET_VECTOR_ELT(out, 1, rtarget);
  SET_VECTOR_ELT(out, 2, rraw);
  SET_STRING_ELT(names, 0, Rf_mkChar("maps"));
  SET_STRING_ELT(names, 1, Rf_mkChar("target"));
  SET_STRING_ELT(names, 2, Rf_mkChar("raw_max"));
  Rf_setAttrib(out, R_NamesSymbol, names);
  UNPROTECT(6);
  return out;
}

static const R_CallMethodDef call_methods[] = {
    {"vxr_version", (DL_FUNC)&vxr_version, 0},
    {"vxr_load", (DL_FUNC)&vxr_load, 2},
    {"vxr_info", (DL_FUNC)&vxr_info, 1},
    {"vxr_predict", (DL_FUNC)&vxr_predict, 2},
    {"vxr_read_volume", (DL_FUNC)&vxr_read_volume, 2},
    {"vxr_gradcam", (DL_FUNC)&vxr_gradcam, 4},
    {"vxr_n4", (DL_FUNC)&vxr_n4, 5},
    {NULL, NULL, 0}};

void R_init_voxinfer(DllInfo* dll) {
  R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
  R_useDynamicSymbols(dll, FALSE);
  R_forceSymbols(dll, TRUE);
}
