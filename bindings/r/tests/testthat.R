library(testthat)
library(voxinfer)
test_check("voxinfer")
