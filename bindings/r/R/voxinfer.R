#' The run-time version of libvoxinfer, e.g. "0.3.0".
voxinfer_version <- function() .Call(vxr_version)

#' Loads a .vxm model and creates one inference session.
#' @param path model file
#' @param threads OpenMP threads per run; NULL = the process default
#' @return an object of class "voxinfer_model"
load_model <- function(path, threads = NULL) {
  stopifnot(is.character(path), length(path) == 1)
  th <- if (is.null(threads)) 0L else as.integer(threads)
  if (length(th) != 1 || is.na(th) || th < 0L) stop("threads must be NULL or a positive integer")
  ptr <- .Call(vxr_load, path.expand(path), th)
  info <- .Call(vxr_info, ptr)
  structure(list(ptr = ptr, path = path, inputs = info$inputs, outputs = info$outputs,
                 input_shapes = info$input_shapes, sha256 = info$sha256,
                 metadata_json = info$metadata_json), class = "voxinfer_model")
}

#' Runs the model.
#' @param object a voxinfer_model
#' @param x an array with dim = c(W, H, D, C, N) (or c(W, H, C, N) for 2-D models), or a list
#'   of such arrays, one per model input in the model's order
#' @param ... more input arrays (alternative to a list)
#' @return an array with dim = c(W, H, D, C, N), or a list of arrays for several outputs
predict.voxinfer_model <- function(object, x, ...) {
  inputs <- if (is.list(x) && !is.array(x)) x else c(list(x), list(...))
  for (i in seq_along(inputs)) {
    a <- inputs[[i]]
    if (!is.numeric(a) || is.null(dim(a))) stop(sprintf("input %d must be a numeric array with dim", i))
    if (!is.double(a)) storage.mode(a) <- "double"
    inputs[[i]] <- a
  }
  out <- .Call(vxr_predict, object$ptr, inputs)
  if (length(out) == 1) out[[1]] else stats::setNames(out, object$outputs)
}

print.voxinfer_model <- function(x, ...) {
  cat("<voxinfer_model>", x$path, "\n")
  for (i in seq_along(x$inputs))
    cat("  input ", x$inputs[i], ": dim (W,H,..,N) =", paste(rev(x$input_shapes[[i]]), collapse = " x "), "\n")
  cat("  outputs:", paste(x$outputs, collapse = ", "), "\n")
  invisible(x)
}

#' Reads a volume: a NIfTI file (.nii, .nii.gz), a DICOM series folder or an enhanced DICOM file.
#' @param path file or folder
#' @param resample_uneven_slices TRUE: a DICOM series whose slices are not on a regular grid is
#'   resampled onto one (with a warning) instead of refused
#' @return list(data = array with dim c(nx, ny, nz) indexed [i, j, k] (1-based) as RNifti /
#'   oro.nifti and nibabel index the file's voxels, affine = 4x4 voxel (0-based i, j, k, 1) -> RAS+ mm
#'   matrix, as nibabel's img.affine, warnings = the reader's warnings, each also given as an R warning)
#' @details A folder holding several DICOM series needs a selector appended to its path:
#'   "DIR#series=UID", "DIR#series-number=N" or "DIR#series-description=GLOB".
read_volume <- function(path, resample_uneven_slices = FALSE) {
  stopifnot(is.character(path), length(path) == 1)
  # path.expand only touches a leading "~", so a "#series=..." selector passes through.
  v <- .Call(vxr_read_volume, path.expand(path), isTRUE(resample_uneven_slices))
  for (w in v$warnings) warning(w, call. = FALSE)
  v
}

#' Grad-CAM heat maps.
#' @param model a voxinfer_model
#' @param x an input array (dim c(W, H, D, C, N) as for predict) or a list of them, one per model input
#' @param target class to explain (0-based, as the model's output channel); NULL = the predicted class
#' @param method "gradcam" or "gradcam++"
#' @return a list with one map per application of the layer (one per input for a dual encoder),
#'   each an array with dim c(W, H, D) of its input (c(W, H, D, N) for a batch), values in [0, 1];
#'   attributes "target" (explained class per sample, 0-based) and "raw_max" (per map and sample,
#'   the maximum before normalisation)
gradcam <- function(model, x, target = NULL, method = c("gradcam", "gradcam++")) {
  if (!inherits(model, "voxinfer_model")) stop("model must come from load_model()")
  method <- match.arg(method)
  inputs <- if (is.list(x) && !is.array(x)) x else list(x)
  for (i in seq_along(inputs)) {
    a <- inputs[[i]]
    if (!is.numeric(a) || is.null(dim(a))) stop(sprintf("input %d must be a numeric array with dim", i))
    if (!is.double(a)) storage.mode(a) <- "double"
    inputs[[i]] <- a
  }
  tc <- if (is.null(target)) -1L else as.integer(target)
  if (length(tc) != 1 || is.na(tc) || tc < -1L) stop("target must be NULL or one class index >= 0")
  res <- .Call(vxr_gradcam, model$ptr, inputs, tc, if (method == "gradcam") 0L else 1L)
  structure(res$maps, target = res$target, raw_max = res$raw_max)
}

#' N4 bias-field correction (SimpleITK's defaults: 4 levels x 50 iterations, no shrinking, no mask).
#' @param x a path (NIfTI file or DICOM series) or a volume as read_volume returns it
#'   (list(data = array dim c(nx, ny, nz), affine = 4x4)); a bare array is taken with an identity affine
#' @param shrink the field is fitted on the volume shrunk by this factor (block mean)
#' @param iterations maximum iterations per fitting level (1 to 8 levels)
#' @param otsu fit inside an Otsu mask instead of every voxel > 0
#' @return list(data = corrected array dim c(nx, ny, nz), affine = the input's 4x4, bias = the
#'   multiplicative field, same dim); voxels <= 0 are returned unchanged
n4 <- function(x, shrink = 1L, iterations = c(50L, 50L, 50L, 50L), otsu = FALSE) {
  if (is.character(x)) {
    res <- .Call(vxr_n4, path.expand(x), NULL, as.integer(shrink), as.integer(iterations), isTRUE(otsu))
  } else if (is.list(x)) {
    stopifnot(!is.null(x$data))
    aff <- if (is.null(x$affine)) NULL else matrix(as.double(x$affine), 4, 4)
    res <- .Call(vxr_n4, x$data, aff, as.integer(shrink), as.integer(iterations), isTRUE(otsu))
  } else {
    res <- .Call(vxr_n4, x, NULL, as.integer(shrink), as.integer(iterations), isTRUE(otsu))
  }
  list(data = res$corrected$data, affine = res$corrected$affine, bias = res$bias$data)
}
