# n4() against the raw C API's N4 (vx_volume_n4, written by tests/r/test_r_binding.py into
# VX_CAPI_RESULT_DIR as t1w_n4.f32: row-major [nz][ny][nx] = column-major dim c(nx, ny, nz)).
capi_dir <- Sys.getenv("VX_CAPI_RESULT_DIR")
t1w <- file.path(Sys.getenv("VX_TEST_DATA_DIR"), "mri", "spine-cervical-sct", "t1", "t1w.nii.gz")

test_that("n4 on a path and on a read volume equals the C API and keeps the geometry", {
  want <- array(readBin(file.path(capi_dir, "t1w_n4.f32"), what = "numeric", size = 4, n = 42 * 76 * 77,
                        endian = "little"), dim = c(42, 76, 77))
  a <- n4(t1w, shrink = 2, iterations = c(20, 20))
  expect_equal(dim(a$data), c(42, 76, 77))
  expect_lt(max(abs(a$data - want)), 1e-5 * max(abs(want)))
  v <- read_volume(t1w)
  b <- n4(v, shrink = 2, iterations = c(20, 20))
  expect_equal(b$data, a$data)
  expect_equal(b$affine, v$affine)
  expect_true(all(is.finite(b$data)) && all(b$bias > 0))
  expect_error(n4(t1w, iterations = integer(0)), "levels")
  expect_error(n4(array(0, dim = c(8, 8, 8))), "voxinfer")
})
