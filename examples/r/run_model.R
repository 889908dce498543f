# Loads a model, runs it on a raw float32 volume, writes the result as raw float32.
# Install first:  VOXINFER_INCLUDE=$PWD/include VOXINFER_LIB=$PWD/build R CMD INSTALL bindings/r
# Usage: Rscript examples/r/run_model.R MODEL.vxm INPUT.f32 OUTPUT.f32 N C D H W
library(voxinfer)
args <- commandArgs(trailingOnly = TRUE)
shape <- as.numeric(args[4:8])                     # N, C, D, H, W
x <- array(readBin(args[2], "numeric", size = 4, n = prod(shape)), dim = rev(shape))  # W,H,D,C,N
m <- load_model(args[1])
print(m)
y <- predict(m, x)
if (is.list(y)) y <- y[[1]]
writeBin(as.numeric(y), args[3], size = 4)
cat("wrote", length(y), "floats to", args[3], "\n")
