#' The run-time version of libvoxinfer, e.g. "0.1.0".
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

#' Reads a NIfTI volume. Not available yet: NIfTI I/O (branch `io`) has no C API entry point.
read_volume <- function(path) stop("voxinfer::read_volume is not implemented: NIfTI I/O is not in the C API yet")

#' Grad-CAM heat map. Not available yet: Grad-CAM (branch `gradcam`) has no C API entry point.
gradcam <- function(model, x, target = NULL, layer = NULL)
  stop("voxinfer::gradcam is not implemented: Grad-CAM is not in the C API yet")
