// N4 on a Volume: the bridge from n4.h's raw arrays to a scan with its geometry, shared by the
// preprocessing plan, the C API and the CLI so that all three run the same call.
#pragma once
#include "image/volume.h"
#include "preprocess/n4.h"

namespace vx::preprocess {

struct N4VolumeResult {
  Volume corrected;  // on src's grid (affine and header kept, scaling reset)
  Volume bias;       // the multiplicative field, same grid
  bool degenerate = false;
};

// N4 with the voxel spacing taken from src's affine; otsu = true fits inside otsu_mask(src)
// (128 bins), else every positive voxel. Throws vx::Error as n4_bias_correct does.
N4VolumeResult n4_volume(const Volume& src, const N4Options& options = {}, bool otsu = false);

}  // namespace vx::preprocess
