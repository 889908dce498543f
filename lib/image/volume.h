// Volume: one 3-D medical image in memory, its voxel-to-world geometry and the file header
// facts needed to write it back with the same geometry.
//
// Conventions (the same as nibabel, so numbers can be checked against it):
//  - data is float32, shape [nz, ny, nx] = (D, H, W): file order, voxel index i (x) fastest.
//  - affine maps the voxel index (i, j, k, 1) to RAS+ millimetres, row-major 4x4, exactly as
//    nibabel's img.affine (sform if sform_code > 0, else qform if qform_code > 0, else the
//    pixdim fallback).
//  - Axis-indexed arrays (spacing, sizes) are in voxel-axis order (i, j, k) = (x, y, z).
#pragma once
#include <array>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace vx {

using Mat4 = std::array<double, 16>;  // row-major 4x4

Mat4 mat4_identity();
Mat4 mat4_mul(const Mat4& a, const Mat4& b);
// Throws Error(invalid_argument) for a singular matrix.
Mat4 mat4_inverse(const Mat4& m);

// Header facts of the file a volume came from. Geometry operations keep qform and sform
// in step with the affine (both are multiplied by the same voxel-index transform).
struct VolumeHeader {
  int qform_code = 0;
  int sform_code = 0;
  Mat4 qform = mat4_identity();  // as decoded from the quaternion (qfac applied)
  Mat4 sform = mat4_identity();  // srow_x/y/z
  int xyz_units = 2;             // NIFTI_UNITS_MM
  int source_datatype = 16;      // NIfTI DT_* code of the file (16 = float32)
  int nifti_version = 1;         // 1 or 2 (what a write reproduces); DICOM sources give 1
  double scl_slope = 0, scl_inter = 0;  // as stored (already applied to data)
  std::string descrip;
  // What the reader had to change to give a regular grid (e.g. uneven DICOM slices
  // resampled), one sentence each; callers log them and put them in their reports.
  std::vector<std::string> warnings;
};

struct Volume {
  Tensor data;  // float32 [nz, ny, nx]
  Mat4 affine = mat4_identity();
  VolumeHeader header;

  int64_t nx() const { return data.dim(2); }
  int64_t ny() const { return data.dim(1); }
  int64_t nz() const { return data.dim(0); }
  // Size in voxel-axis order (i, j, k).
  std::array<int64_t, 3> size_ijk() const { return {nx(), ny(), nz()}; }
  float* voxels() { return data.f32(); }
  const float* voxels() const { return data.f32(); }
};

// Voxel size in mm along i, j, k: the lengths of the affine's first three columns.
std::array<double, 3> spacing(const Mat4& affine);
inline std::array<double, 3> spacing(const Volume& v) { return spacing(v.affine); }
// Voxel volume in mm^3 (|det| of the affine's 3x3 part).
double voxel_volume_mm3(const Mat4& affine);
// Three-letter orientation of the voxel axes, as nibabel's aff2axcodes ("RAS", "LPS", ...).
std::string axcodes(const Mat4& affine);
// Checks a volume is usable: float32 rank-3 data, finite invertible affine. Throws Error.
void validate_volume(const Volume& v);
// New float32 values on `like`'s grid: its affine and header (scaling reset), data reshaped
// to [nz, ny, nx] (a copy). Throws Error(shape_mismatch) when the element count differs.
Volume volume_like(const Volume& like, const Tensor& data);
// Applies a voxel-index transform T (new voxel -> old voxel) to the affine, qform and sform.
void compose_index_transform(Volume& v, const Mat4& new_to_old);

}  // namespace vx
