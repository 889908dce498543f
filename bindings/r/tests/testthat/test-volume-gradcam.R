# Volumes against nibabel and Grad-CAM against PyTorch autograd (tests/capi/gen_volcam_fixtures.py,
# VX_FIXTURE_DIR/volcam) and against the raw C API's maps (tests/r/test_r_binding.py, VX_CAPI_RESULT_DIR).
vfx <- file.path(Sys.getenv("VX_FIXTURE_DIR"), "volcam")
capi_dir <- Sys.getenv("VX_CAPI_RESULT_DIR")
t1w <- file.path(Sys.getenv("VX_TEST_DATA_DIR"), "mri", "spine-cervical-sct", "t1", "t1w.nii.gz")

# A number or list of numbers the generator wrote into VX_FIXTURE_DIR/volcam/NAME.json, e.g.
# "raw_max": [a, b] (PyTorch's Grad-CAM maxima) or "class": 1; no jsonlite needed.
fixture_numbers <- function(name, key) {
  txt <- paste(readLines(file.path(vfx, paste0(name, ".json")), warn = FALSE), collapse = "")
  hit <- regmatches(txt, regexpr(paste0('"', key, '": *(\\[[^]]*\\]|-?[0-9][0-9.eE+-]*)'), txt))
  stopifnot(length(hit) == 1)
  as.numeric(strsplit(gsub("^.*: *\\[?|\\]$", "", hit), ",")[[1]])
}

read_raw <- function(path, n, size = 4) readBin(path, what = "numeric", size = size, n = n, endian = "little")
# A PyTorch map [1, 1, D, H, W] (row-major) is column-major dim c(W, H, D): no transposition.
read_map <- function(path, dhw) array(read_raw(path, prod(dhw)), dim = rev(dhw))

test_that("read_volume equals nibabel: data [i, j, k] and affine", {
  v <- read_volume(t1w)
  expect_named(v, c("data", "affine", "warnings"))
  expect_length(v$warnings, 0)
  expect_equal(dim(v$data), c(42, 76, 77))
  nib <- array(read_raw(file.path(vfx, "t1w.f32"), 42 * 76 * 77), dim = c(42, 76, 77))
  expect_lt(max(abs(v$data - nib)), 1e-3)
  expect_equal(v$data[3, 5, 7], nib[3, 5, 7])
  aff <- matrix(read_raw(file.path(vfx, "t1w_affine.f64"), 16, size = 8), 4, 4, byrow = TRUE)
  expect_equal(dim(v$affine), c(4, 4))
  expect_lt(max(abs(v$affine - aff)), 1e-9)
  expect_equal(v$affine[4, ], c(0, 0, 0, 1))
  expect_error(read_volume(file.path(vfx, "resnet3d.json")), "voxinfer")
})

test_that("gradcam on a 3-D ResNet equals PyTorch and the C API", {
  m <- load_model(file.path(vfx, "resnet3d.vxm"))
  x <- array(read_raw(file.path(vfx, "resnet3d_in0.f32"), 6 * 12 * 10), dim = c(10, 12, 6, 1, 1))
  maps <- gradcam(m, x)
  expect_length(maps, 1)
  expect_equal(dim(maps[[1]]), c(10, 12, 6))
  torch <- read_map(file.path(vfx, "resnet3d_cam0.f32"), c(6, 12, 10))
  expect_lt(max(abs(maps[[1]] - torch)), 1e-4)
  expect_identical(maps[[1]], read_map(file.path(capi_dir, "resnet3d_capi_cam0.f32"), c(6, 12, 10)))
  expect_equal(attr(maps, "target"), as.integer(fixture_numbers("resnet3d", "class")))  # PyTorch's class
  expect_equal(attr(maps, "raw_max"), fixture_numbers("resnet3d", "raw_max"), tolerance = 1e-3)
  pp <- gradcam(m, list(x), method = "gradcam++")
  expect_lt(max(abs(pp[[1]] - read_map(file.path(vfx, "resnet3d_campp0.f32"), c(6, 12, 10)))), 1e-4)
  other <- gradcam(m, x, target = 2)
  expect_equal(attr(other, "target"), 2L)
  expect_gt(max(abs(other[[1]] - maps[[1]])), 1e-3)
  expect_error(gradcam(m, x, target = 9), "voxinfer")
})

test_that("gradcam on a dual encoder gives one map per input, on its grid", {
  m <- load_model(file.path(vfx, "dual.vxm"))
  t1 <- array(read_raw(file.path(vfx, "dual_in0.f32"), 6 * 10 * 8), dim = c(8, 10, 6, 1, 1))
  stir <- array(read_raw(file.path(vfx, "dual_in1.f32"), 8 * 6 * 10), dim = c(10, 6, 8, 1, 1))
  maps <- gradcam(m, list(t1, stir))
  expect_length(maps, 2)
  expect_equal(dim(maps[[1]]), c(8, 10, 6))
  expect_equal(dim(maps[[2]]), c(10, 6, 8))
  expect_lt(max(abs(maps[[1]] - read_map(file.path(vfx, "dual_cam0.f32"), c(6, 10, 8)))), 1e-4)
  expect_lt(max(abs(maps[[2]] - read_map(file.path(vfx, "dual_cam1.f32"), c(8, 6, 10)))), 1e-4)
  expect_identical(maps[[2]], read_map(file.path(capi_dir, "dual_capi_cam1.f32"), c(8, 6, 10)))
  expect_equal(attr(maps, "target"), as.integer(fixture_numbers("dual", "class")))
  expect_equal(attr(maps, "raw_max"), fixture_numbers("dual", "raw_max"), tolerance = 1e-3)
})
