# A series inside a folder of several (gen_dicom_series_fixtures.py) is named by a selector
# appended to the path, as in C and Python; the reference voxels were written by pydicom
# (float32 [slice, row, column], which is R's column-major c(nx, ny, nz)). Uneven slices
# (gen_dicom_geometry_fixtures.py) are refused, or resampled with the reader's warning.
fx <- Sys.getenv("VX_FIXTURE_DIR")
exam <- file.path(fx, "dicom_series", "exam")

test_that("a series is read from a folder of several by number and by description", {
  ref_file <- file.path(fx, "dicom_series", "series_5.f32")
  ref <- readBin(ref_file, what = "numeric", size = 4, n = file.size(ref_file) / 4, endian = "little")
  for (sel in c("#series-number=5", "#series-description=stir*")) {
    v <- read_volume(paste0(exam, sel))
    expect_equal(prod(dim(v$data)), length(ref))
    expect_identical(as.vector(v$data), ref)
    expect_length(v$warnings, 0)
  }
  expect_error(read_volume(exam), "holds 4 DICOM series")
  expect_error(read_volume(paste0(exam, "#series-number=7")), "no DICOM series")
})

test_that("uneven slices are refused, or resampled with the reader's warning", {
  gaps <- file.path(fx, "dicom_geometry", "gaps")
  expect_error(read_volume(gaps), "--resample-uneven-slices", fixed = TRUE)
  expect_warning(v <- read_volume(gaps, resample_uneven_slices = TRUE), "resampled onto a regular grid")
  expect_length(v$warnings, 1)
  expect_match(v$warnings[1], "resampled onto a regular grid")
})
