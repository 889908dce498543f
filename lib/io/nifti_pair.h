// Two-file NIfTI-1/2 ("ni1"/"ni2") and Analyze 7.5 images: a .hdr header beside a .img with
// the voxels (either name may be given; any case). Read by read_nifti like a .nii.
// Analyze headers carry no orientation: the affine is nibabel's (Spm2AnalyzeImage): the SPM
// origin field (originator, voxel coordinates from 1) when it is set and inside the volume's
// range, else the centre, with x flipped; scl_slope (SPM's funused1) scales as in NIfTI.
#pragma once
#include <string>

namespace vx {

struct NiftiFiles {
  std::string header, image;  // the same file for a .nii / .nii.gz
  bool pair = false;
};

// True for a name ending in .hdr or .img (any case).
bool is_nifti_pair_name(const std::string& path);
NiftiFiles nifti_files(const std::string& path);

}  // namespace vx
