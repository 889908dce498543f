// C entry points for volumes: reading (NIfTI or DICOM, chosen by what the path is),
// creating from caller data, atomic NIfTI writing, queries and geometry operations.
// Every operation builds a complete vx::Volume first and registers the handle last, so a
// failure leaves nothing behind and the caller's *out is NULL.

// This file defines an exported API 100 initialiser: voxinfer.h declares it only then.
#define VX_CAPI_DEFINES_LEGACY_INIT

#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <memory>

#include "capi/guard.h"
#include "capi/handles.h"
#include "capi/options.h"
#include "image/geometry.h"
#include "io/dicom_seg_write.h"
#include "io/dicom_source.h"
#include "io/nifti.h"
#include "io/volume_io.h"

// The published versions of vx_volume_read_options, oldest first (layouts pinned in voxinfer.h).
static_assert(offsetof(vx_volume_read_options, struct_size) == 0, "struct_size must come first");
static constexpr size_t kVolumeReadOptionsVersions[] = {VX_VOLUME_READ_OPTIONS_SIZE_V1,
                                                        VX_VOLUME_READ_OPTIONS_SIZE_V2};

using vx::Status;
using vx::capi::HandleKind;

namespace {

vx_volume_read_options volume_read_defaults() {
  vx_volume_read_options o{};
  o.struct_size = sizeof o;
  return o;
}

const vx::Volume& volume_of(const vx_volume* v, const char* what = "volume") {
  vx::capi::check_handle(v, HandleKind::volume, what);
  return v->volume;
}

vx_volume* make_volume_handle(vx::Volume&& vol) {
  vx::validate_volume(vol);
  auto h = std::make_unique<vx_volume>();
  h->volume = std::move(vol);
  vx::capi::register_handle(h.get(), HandleKind::volume);
  return h.release();
}

vx::Tensor copy_voxels(const float* data, int64_t nx, int64_t ny, int64_t nz) {
  int64_t n = 0;
  if (__builtin_mul_overflow(nx, ny, &n) || __builtin_mul_overflow(n, nz, &n) || n > (int64_t(1) << 40))
    vx::fail(Status::limit_exceeded, "volume of " + std::to_string(nx) + " x " + std::to_string(ny) + " x " +
                                         std::to_string(nz) + " voxels is too large");
  vx::Tensor t = vx::Tensor::empty(vx::Shape{nz, ny, nx});
  std::memcpy(t.f32(), data, t.nbytes());
  return t;
}

vx::Interp interp_of(vx_interp i) {
  if (i == VX_INTERP_LINEAR) return vx::Interp::linear;
  if (i == VX_INTERP_NEAREST) return vx::Interp::nearest;
  vx::fail(Status::invalid_argument,
           "interp is " + std::to_string(static_cast<int>(i)) + "; use VX_INTERP_LINEAR or VX_INTERP_NEAREST");
}

}  // namespace

extern "C" {

VX_API vx_status vx_volume_read_options_init_sized(vx_volume_read_options* options, size_t struct_size) {
  return vx::capi::guarded([&] {
    vx::capi::init_options(options, struct_size, volume_read_defaults(), kVolumeReadOptionsVersions,
                           "vx_volume_read_options");
  });
}

VX_API vx_status vx_volume_read_options_init(vx_volume_read_options* options) {
  return vx_volume_read_options_init_sized(options, VX_VOLUME_READ_OPTIONS_SIZE_V1);
}

VX_API vx_status vx_volume_read(const char* path, const vx_volume_read_options* options, vx_volume** out) {
  return vx::capi::guarded([&] {
    vx::capi::need(out, "out");
    *out = nullptr;
    vx::capi::need(path, "path");
    const vx_volume_read_options o =
        vx::capi::read_options(options, volume_read_defaults(), kVolumeReadOptionsVersions, "vx_volume_read_options");
    vx::NiftiReadOptions n;
    vx::DicomReadOptions d;
    if (o.max_bytes) {
      n.max_bytes = static_cast<size_t>(o.max_bytes);
      d.max_voxels = static_cast<size_t>(o.max_bytes / sizeof(float));
    }
    n.non_finite = o.replace_non_finite ? vx::NonFinitePolicy::replace_with_zero : vx::NonFinitePolicy::error;
    d.resample_uneven_slices = o.resample_uneven_slices != 0;
    vx::Volume vol = vx::read_volume(path, n, d);
    if (!vol.data.is_contiguous()) vol.data = vol.data.clone();
    *out = make_volume_handle(std::move(vol));
  });
}

VX_API vx_status vx_volume_create(const float* data, const int64_t dims[3], const double affine[16],
                                  vx_volume** out) {
  return vx::capi::guarded([&] {
    vx::capi::need(out, "out");
    *out = nullptr;
    vx::capi::need(data, "data");
    vx::capi::need(dims, "dims");
    for (int i = 0; i < 3; ++i)
      if (dims[i] < 1 || dims[i] > (int64_t(1) << 31))
        vx::fail(Status::invalid_argument, "dims[" + std::to_string(i) + "] is " + std::to_string(dims[i]) +
                                               "; each dimension must be in 1..2^31");
    vx::Volume vol;
    if (affine) {
      std::memcpy(vol.affine.data(), affine, sizeof(double) * 16);
      if (affine[12] != 0 || affine[13] != 0 || affine[14] != 0 || affine[15] != 1)
        vx::fail(Status::invalid_argument, "affine's last row must be 0 0 0 1");
    }
    vol.data = copy_voxels(data, dims[0], dims[1], dims[2]);
    // No stored frame: the NIfTI writer records the affine itself (sform, aligned).
    *out = make_volume_handle(std::move(vol));
  });
}

VX_API vx_status vx_volume_create_like(const vx_volume* like, const float* data, vx_volume** out) {
  return vx::capi::guarded([&] {
    vx::capi::need(out, "out");
    *out = nullptr;
    const vx::Volume& src = volume_of(like, "like");
    vx::capi::need(data, "data");
    *out = make_volume_handle(vx::volume_like(src, copy_voxels(data, src.nx(), src.ny(), src.nz())));
  });
}

VX_API vx_status vx_volume_write(const vx_volume* volume, const char* path) {
  return vx::capi::guarded([&] {
    const vx::Volume& v = volume_of(volume);
    vx::capi::need(path, "path");
    vx::write_nifti(path, v);  // temp file in the destination folder + rename
  });
}

VX_API vx_status vx_volume_write_dicom_seg(const vx_volume* mask, const char* reference, const char* label_names,
                                          const char* path) {
  return vx::capi::guarded([&] {
    const vx::Volume& m = volume_of(mask, "mask");
    vx::capi::need(reference, "reference");
    vx::capi::need(path, "path");
    vx::DicomSegOptions o;
    if (label_names) {
      std::string names = label_names;
      for (size_t start = 0;;) {
        const size_t comma = names.find(',', start);
        o.label_names.push_back(names.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (o.label_names.back().empty()) vx::fail(Status::invalid_argument, "label_names has an empty name");
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    o.software_version = vx_version();
    const vx::DicomSource src = vx::read_dicom_source(reference);
    vx::write_dicom_seg(path, m, vx::read_volume(reference), src, o);
  });
}

VX_API vx_status vx_volume_dims(const vx_volume* volume, int64_t dims[3]) {
  return vx::capi::guarded([&] {
    const vx::Volume& v = volume_of(volume);
    vx::capi::need(dims, "dims");
    dims[0] = v.nx();
    dims[1] = v.ny();
    dims[2] = v.nz();
  });
}

VX_API vx_status vx_volume_data(const vx_volume* volume, const float** out) {
  return vx::capi::guarded([&] {
    const vx::Volume& v = volume_of(volume);
    vx::capi::need(out, "out");
    *out = v.voxels();
  });
}

VX_API vx_status vx_volume_affine(const vx_volume* volume, double affine[16]) {
  return vx::capi::guarded([&] {
    const vx::Volume& v = volume_of(volume);
    vx::capi::need(affine, "affine");
    std::memcpy(affine, v.affine.data(), sizeof(double) * 16);
  });
}

VX_API vx_status vx_volume_spacing(const vx_volume* volume, double spacing[3]) {
  return vx::capi::guarded([&] {
    const vx::Volume& v = volume_of(volume);
    vx::capi::need(spacing, "spacing");
    const auto s = vx::spacing(v);
    for (int i = 0; i < 3; ++i) spacing[i] = s[static_cast<size_t>(i)];
  });
}

VX_API vx_status vx_volume_axcodes(const vx_volume* volume, char out[4]) {
  return vx::capi::guarded([&] {
    const vx::Volume& v = volume_of(volume);
    vx::capi::need(out, "out");
    const std::string c = vx::axcodes(v.affine);
    if (c.size() != 3) vx::fail(Status::internal, "axcodes returned '" + c + "'");
    std::memcpy(out, c.c_str(), 4);
  });
}

VX_API vx_status vx_volume_warning_count(const vx_volume* volume, size_t* count) {
  return vx::capi::guarded([&] {
    const vx::Volume& v = volume_of(volume);
    vx::capi::need(count, "count");
    *count = v.header.warnings.size();
  });
}

VX_API vx_status vx_volume_warning(const vx_volume* volume, size_t index, const char** text) {
  if (text) *text = nullptr;
  return vx::capi::guarded([&] {
    const vx::Volume& v = volume_of(volume);
    vx::capi::need(text, "text");
    if (index >= v.header.warnings.size())
      vx::fail(Status::invalid_argument, "warning index " + std::to_string(index) + " is out of range (the volume has " +
                                             std::to_string(v.header.warnings.size()) + ")");
    *text = v.header.warnings[index].c_str();
  });
}

VX_API vx_status vx_volume_reorient(const vx_volume* volume, const char* axcodes, vx_volume** out) {
  return vx::capi::guarded([&] {
    vx::capi::need(out, "out");
    *out = nullptr;
    const vx::Volume& v = volume_of(volume);
    vx::capi::need(axcodes, "axcodes");
    *out = make_volume_handle(vx::reorient(v, axcodes));
  });
}

VX_API vx_status vx_volume_resample(const vx_volume* volume, const double spacing[3], vx_interp interp,
                                    vx_volume** out) {
  return vx::capi::guarded([&] {
    vx::capi::need(out, "out");
    *out = nullptr;
    const vx::Volume& v = volume_of(volume);
    vx::capi::need(spacing, "spacing");
    vx::ResampleOptions o;
    for (int i = 0; i < 3; ++i) {
      if (!(spacing[i] >= 0) || !std::isfinite(spacing[i]))
        vx::fail(Status::invalid_argument, "spacing[" + std::to_string(i) + "] must be finite and >= 0");
      o.spacing[static_cast<size_t>(i)] = spacing[i];
    }
    o.interp = interp_of(interp);
    *out = make_volume_handle(vx::resample(v, o));
  });
}

VX_API vx_status vx_volume_resize(const vx_volume* volume, const int64_t size[3], vx_interp interp,
                                  int32_t align_corners, vx_volume** out) {
  return vx::capi::guarded([&] {
    vx::capi::need(out, "out");
    *out = nullptr;
    const vx::Volume& v = volume_of(volume);
    vx::capi::need(size, "size");
    std::array<int64_t, 3> sz{};
    for (int i = 0; i < 3; ++i) {
      if (size[i] < 1 || size[i] > (int64_t(1) << 31))
        vx::fail(Status::invalid_argument, "size[" + std::to_string(i) + "] must be in 1..2^31");
      sz[static_cast<size_t>(i)] = size[i];
    }
    if (align_corners != 0 && align_corners != 1)
      vx::fail(Status::invalid_argument, "align_corners must be 0 or 1");
    *out = make_volume_handle(vx::resize(v, sz, interp_of(interp), align_corners != 0));
  });
}

VX_API vx_status vx_volume_free(vx_volume* volume) {
  return vx::capi::guarded([&] {
    if (!volume) return;
    if (!vx::capi::unregister_handle(volume, HandleKind::volume))
      vx::fail(Status::invalid_argument, "vx_volume_free: not a live vx_volume (freed twice?)");
    delete volume;
  });
}

}  // extern "C"
