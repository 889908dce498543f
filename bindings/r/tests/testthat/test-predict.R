# Fixtures come from tests/capi/gen_capi_fixtures.py (VX_FIXTURE_DIR/capi); the C API results
# on the same inputs from tests/r/test_r_binding.py (VX_CAPI_RESULT_DIR).
fx <- file.path(Sys.getenv("VX_FIXTURE_DIR"), "capi")
capi_dir <- Sys.getenv("VX_CAPI_RESULT_DIR")

read_f32 <- function(path, shape_nchw) {
  v <- readBin(path, what = "numeric", size = 4, n = prod(shape_nchw), endian = "little")
  array(v, dim = rev(shape_nchw))  # column-major W,H,D,C,N = row-major N,C,D,H,W
}
shapes <- function(name) jsonlite_free_read(file.path(fx, paste0(name, ".json")))
# Tiny reader for the fixture's {"inputs": [[..]], "outputs": [[..]]} (no jsonlite needed).
jsonlite_free_read <- function(path) {
  txt <- paste(readLines(path, warn = FALSE), collapse = "")
  grab <- function(key) {
    body <- sub(paste0('.*"', key, '": \\[\\[(.*?)\\]\\].*'), "\\1", txt, perl = TRUE)
    lapply(strsplit(body, "\\], \\[")[[1]], function(s) as.numeric(strsplit(s, ", ")[[1]]))
  }
  list(inputs = grab("inputs"), outputs = grab("outputs"))
}

test_that("version", {
  expect_equal(voxinfer_version(), "0.3.0")
})

test_that("tiny3d matches PyTorch and the C API, dims W,H,D,C,N without transposition", {
  s <- shapes("tiny3d")
  m <- load_model(file.path(fx, "tiny3d.vxm"), threads = 2)
  expect_s3_class(m, "voxinfer_model")
  expect_equal(m$inputs, "image")
  x <- read_f32(file.path(fx, "tiny3d_in0.f32"), s$inputs[[1]])
  expect_equal(dim(x), c(8, 7, 6, 2, 1))
  y <- predict(m, x)
  expect_equal(dim(y), rev(s$outputs[[1]]))
  torch <- read_f32(file.path(fx, "tiny3d_out0.f32"), s$outputs[[1]])
  expect_lt(max(abs(y - torch)), 1e-4)
  capi <- read_f32(file.path(capi_dir, "tiny3d_capi0.f32"), s$outputs[[1]])
  expect_identical(y, capi)  # bit for bit: the same library on the same floats
  # A transposed input (D and W swapped) is a different volume and must not fit.
  expect_error(predict(m, aperm(x, c(3, 2, 1, 4, 5)) + 0), NA)
  expect_false(isTRUE(all.equal(predict(m, aperm(x, c(3, 2, 1, 4, 5))), aperm(y, c(3, 2, 1, 4, 5)))))
})

test_that("several inputs and outputs", {
  s <- shapes("two_io")
  m <- load_model(file.path(fx, "two_io.vxm"))
  a <- read_f32(file.path(fx, "two_io_in0.f32"), s$inputs[[1]])
  b <- read_f32(file.path(fx, "two_io_in1.f32"), s$inputs[[2]])
  out <- predict(m, a, b)
  expect_equal(names(out), c("logits", "probs"))
  expect_lt(max(abs(out$logits - read_f32(file.path(fx, "two_io_out0.f32"), s$outputs[[1]]))), 1e-4)
  expect_lt(max(abs(out$probs - read_f32(file.path(fx, "two_io_out1.f32"), s$outputs[[2]]))), 1e-5)
  expect_identical(predict(m, list(a, b)), out)
})

test_that("errors carry the C message", {
  expect_error(load_model(file.path(fx, "missing.vxm")), "missing.vxm")
  m <- load_model(file.path(fx, "tiny3d.vxm"))
  expect_error(predict(m, array(0, dim = c(4, 4, 4, 3, 1))), "does not fit the declared")
  expect_error(predict(m, "a"), "numeric array")
  expect_error(load_model(file.path(fx, "tiny3d.vxm"), threads = -1), "threads")
  expect_error(read_volume(file.path(fx, "missing.nii.gz")), "missing.nii.gz")
  expect_error(read_volume(file.path(fx, "missing.nii.gz")), "[VX_ERR_IO]", fixed = TRUE)  # the status, named
  expect_error(read_volume(file.path(fx, "missing.nii.gz"), resample_uneven_slices = TRUE), "missing.nii.gz")
  expect_error(gradcam(m, array(0, dim = c(4, 4, 4, 3, 1))), "does not fit the declared")
})
