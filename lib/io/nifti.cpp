#include "io/nifti.h"
#include "io/nifti_pair.h"

#include <nifti2_io.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <memory>
#include <vector>

namespace vx {
namespace {

// The few header fields checked before nifti_clib is allowed to allocate.
struct RawHeader {
  int version = 0;
  bool swapped = false;
  int64_t dim[8] = {};
  int datatype = 0;
  int bitpix = 0;
  double pixdim[8] = {};
  int64_t vox_offset = 0;
  double scl_slope = 0, scl_inter = 0;  // as stored: nifti_clib turns NaN into 0, nibabel does not
  bool pair = false, analyze = false;   // two files (.hdr + .img); no NIfTI magic (Analyze 7.5)
  int16_t origin[3] = {};               // Analyze: SPM's originator field
};

template <typename T>
T load(const unsigned char* p, bool swap) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, p, sizeof(T));
  if (swap)
    for (size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(b[i], b[sizeof(T) - 1 - i]);
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}

std::string quote(const std::string& path) { return "'" + path + "'"; }

RawHeader read_raw_header(const std::string& path, bool pair) {
  gzFile f = gzopen(path.c_str(), "rb");  // reads uncompressed files transparently
  if (!f) fail(Status::io_error, "cannot open NIfTI file " + quote(path));
  unsigned char buf[540] = {};
  int n = gzread(f, buf, sizeof(buf));
  gzclose(f);
  if (n < 348) fail(Status::corrupt_file, "NIfTI file " + quote(path) + " is too short for a header");
  RawHeader h;
  int32_t sz = load<int32_t>(buf, false);
  if (sz == 348 || sz == 540) {
    h.swapped = false;
  } else {
    sz = load<int32_t>(buf, true);
    h.swapped = true;
    if (sz != 348 && sz != 540)
      fail(Status::corrupt_file, "not a NIfTI file (sizeof_hdr is neither 348 nor 540): " + quote(path));
  }
  bool s = h.swapped;
  if (sz == 348) {
    h.version = 1;
    for (int i = 0; i < 8; ++i) h.dim[i] = load<int16_t>(buf + 40 + 2 * i, s);
    h.datatype = load<int16_t>(buf + 70, s);
    h.bitpix = load<int16_t>(buf + 72, s);
    for (int i = 0; i < 8; ++i) h.pixdim[i] = load<float>(buf + 76 + 4 * i, s);
    double vo = load<float>(buf + 108, s);
    if (!(vo >= 0 && vo < 1e12)) fail(Status::corrupt_file, "invalid vox_offset in " + quote(path));
    h.vox_offset = static_cast<int64_t>(vo);
    h.scl_slope = load<float>(buf + 112, s);
    h.scl_inter = load<float>(buf + 116, s);
    h.pair = pair;
    if (pair) {
      // nifti_clib would read an 'n+1' header's voxels from the .hdr itself, we from the .img.
      if (std::memcmp(buf + 344, "n+1", 4) == 0)
        fail(Status::unsupported, "a .hdr holding a single-file NIfTI-1 header (magic 'n+1'); name it .nii: " + quote(path));
      h.analyze = std::memcmp(buf + 344, "ni1", 4) != 0;
      if (h.analyze)
        for (int i = 0; i < 3; ++i) h.origin[i] = load<int16_t>(buf + 253 + 2 * i, s);
    } else if (std::memcmp(buf + 344, "ni1", 4) == 0) {
      fail(Status::unsupported, "NIfTI-1 header of a two-file pair (magic 'ni1') in a single file: give the .hdr "
                                "with its .img beside it: " + quote(path));
    } else if (std::memcmp(buf + 344, "n+1", 4) != 0) {
      fail(Status::unsupported, "not a single-file NIfTI-1 (magic 'n+1'); an Analyze 7.5 image is read as its "
                                ".hdr/.img pair: " + quote(path));
    }
  } else {
    if (n < 540) fail(Status::corrupt_file, "NIfTI-2 file " + quote(path) + " is too short for a header");
    h.version = 2;
    h.datatype = load<int16_t>(buf + 12, s);
    h.bitpix = load<int16_t>(buf + 14, s);
    for (int i = 0; i < 8; ++i) h.dim[i] = load<int64_t>(buf + 16 + 8 * i, s);
    for (int i = 0; i < 8; ++i) h.pixdim[i] = load<double>(buf + 104 + 8 * i, s);
    h.vox_offset = load<int64_t>(buf + 168, s);
    h.scl_slope = load<double>(buf + 176, s);
    h.scl_inter = load<double>(buf + 184, s);
    h.pair = pair;
    if (std::memcmp(buf + 4, pair ? "ni2" : "n+2", 4) != 0)
      fail(Status::unsupported, std::string(pair ? "a NIfTI-2 .hdr needs magic 'ni2'" : "only single-file NIfTI-2 (magic 'n+2') is supported") +
                                    ": " + quote(path));
  }
  return h;
}

int bytes_per_voxel(int datatype) {
  switch (datatype) {
    case DT_UINT8: case DT_INT8: return 1;
    case DT_INT16: case DT_UINT16: return 2;
    case DT_INT32: case DT_UINT32: case DT_FLOAT32: return 4;
    case DT_FLOAT64: return 8;
    default: return 0;
  }
}

bool is_gzip(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  unsigned char m[2] = {0, 0};
  size_t n = std::fread(m, 1, 2, f);
  std::fclose(f);
  return n == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

// Validates the raw header; returns the voxel count.
int64_t check_header(const RawHeader& h, const std::string& path, const std::string& image, const NiftiReadOptions& opts) {
  const std::string where = " in " + quote(path);
  int64_t rank = h.dim[0];
  if (rank < 1 || rank > 7) fail(Status::corrupt_file, "invalid dim[0] = " + std::to_string(rank) + where);
  for (int i = 1; i <= rank; ++i)
    if (h.dim[i] <= 0)
      fail(Status::corrupt_file, "dimension " + std::to_string(i) + " is " + std::to_string(h.dim[i]) + where);
  if (rank < 3)
    fail(Status::unsupported, "a 3-D volume is expected but the file is " + std::to_string(rank) + "-D" + where);
  for (int i = 4; i <= rank; ++i)
    if (h.dim[i] != 1)
      fail(Status::unsupported, "a 3-D volume is expected but the file is " + std::to_string(rank) +
                                    "-D with dim[" + std::to_string(i) + "] = " + std::to_string(h.dim[i]) + where);
  int bpv = bytes_per_voxel(h.datatype);
  if (bpv == 0) fail(Status::unsupported, "unsupported NIfTI datatype " + std::to_string(h.datatype) + where);
  // A header that contradicts itself is damaged; 0 is tolerated (some writers leave it unset).
  if (h.bitpix != 0 && h.bitpix != 8 * bpv)
    fail(Status::corrupt_file, "bitpix " + std::to_string(h.bitpix) + " disagrees with datatype " +
                                   std::to_string(h.datatype) + " (" + std::to_string(8 * bpv) + " bits)" + where);
  for (int i = 1; i <= 3; ++i)
    if (!(std::isfinite(h.pixdim[i]) && h.pixdim[i] > 0))
      fail(Status::corrupt_file, "voxel spacing pixdim[" + std::to_string(i) + "] = " +
                                     std::to_string(h.pixdim[i]) + " is not positive" + where);
  // Overflow-safe size: each dim is < 2^63 and we stop as soon as the limit is passed.
  const double limit = static_cast<double>(opts.max_bytes);
  double nvox_d = double(h.dim[1]) * double(h.dim[2]) * double(h.dim[3]);
  double stored = nvox_d * bpv, as_float = nvox_d * 4;
  if (stored > limit || as_float > limit)
    fail(Status::limit_exceeded, "NIfTI header claims " + std::to_string(h.dim[1]) + "x" + std::to_string(h.dim[2]) +
                                     "x" + std::to_string(h.dim[3]) + " voxels (" + std::to_string(stored) +
                                     " bytes), more than the limit of " + std::to_string(opts.max_bytes) + where);
  int64_t nvox = h.dim[1] * h.dim[2] * h.dim[3];
  const int64_t min_offset = h.pair ? 0 : h.version == 1 ? 348 : 540;
  if (h.vox_offset < min_offset)
    fail(Status::corrupt_file, "vox_offset " + std::to_string(h.vox_offset) + " lies inside the header" + where);
  // nvox * bpv <= max_bytes here; vox_offset is bounded before adding so the sum cannot overflow.
  const int64_t payload = nvox * bpv;
  if (!is_gzip(image)) {
    struct stat st;
    if (::stat(image.c_str(), &st) != 0)
      fail(Status::io_error, "cannot open " + quote(image) + (h.pair ? ", the voxel file of the header " + quote(path) : ""));
    const int64_t have = static_cast<int64_t>(st.st_size);
    if (h.vox_offset > have || payload > have - h.vox_offset)
      fail(Status::corrupt_file, "NIfTI file is truncated: needs vox_offset " + std::to_string(h.vox_offset) + " + " +
                                     std::to_string(payload) + " bytes, has " + std::to_string(have) + " in " + quote(image));
  } else if (h.vox_offset > static_cast<int64_t>(std::min<size_t>(opts.max_bytes, size_t(INT64_MAX))) - payload) {
    // Compressed: the header extensions before vox_offset are decompressed (and allocated by
    // nifti_clib) too, so they count against the same limit.
    fail(Status::limit_exceeded, "NIfTI vox_offset " + std::to_string(h.vox_offset) + " plus " +
                                     std::to_string(payload) + " voxel bytes exceeds the limit of " +
                                     std::to_string(opts.max_bytes) + where);
  }
  return nvox;
}

std::vector<unsigned char> read_voxel_bytes(const std::string& path, const RawHeader& h, int64_t nvox) {
  const int bpv = bytes_per_voxel(h.datatype);
  const size_t nbytes = static_cast<size_t>(nvox) * static_cast<size_t>(bpv);
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) fail(Status::io_error, "cannot open NIfTI file " + quote(path));
  gzbuffer(f, 1 << 17);
  bool ok = gzseek(f, static_cast<z_off_t>(h.vox_offset), SEEK_SET) == static_cast<z_off_t>(h.vox_offset);
  std::vector<unsigned char> buf;
  size_t got = 0;
  if (ok) {
    buf.resize(nbytes);  // bounded by check_header (file size or max_bytes)
    while (got < nbytes) {
      unsigned chunk = static_cast<unsigned>(std::min<size_t>(nbytes - got, size_t(1) << 30));
      int n = gzread(f, buf.data() + got, chunk);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
  }
  gzclose(f);
  if (got != nbytes)
    fail(Status::corrupt_file, "NIfTI voxel data is truncated or corrupt: read " + std::to_string(got) + " of " +
                                   std::to_string(nbytes) + " bytes in " + quote(path));
  if (h.swapped && bpv > 1)
    for (size_t i = 0; i < nbytes; i += static_cast<size_t>(bpv)) std::reverse(buf.begin() + i, buf.begin() + i + bpv);
  return buf;
}

Mat4 from_dmat(const nifti_dmat44& m) {
  Mat4 a{};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) a[r * 4 + c] = m.m[r][c];
  return a;
}

nifti_dmat44 to_dmat(const Mat4& a) {
  nifti_dmat44 m;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) m.m[r][c] = a[r * 4 + c];
  return m;
}

template <typename T>
void convert(const void* src, float* dst, int64_t n, double slope, double inter, bool scale) {
  const T* s = static_cast<const T*>(src);
  if (scale) {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(static_cast<double>(s[i]) * slope + inter);
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(s[i]);
  }
}

struct NimDeleter {
  void operator()(nifti_image* p) const { nifti_image_free(p); }
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Volume read_nifti(const std::string& path, const NiftiReadOptions& opts) {
  const NiftiFiles files = nifti_files(path);
  RawHeader raw = read_raw_header(files.header, files.pair);
  const int64_t nvox = check_header(raw, files.header, files.image, opts);

  // nifti_clib decodes the header (quaternion, sform, codes); the voxels are read here
  // because nifti_clib silently replaces NaN/Inf floats by 0, which must be reported.
  nifti_set_debug_level(0);
  std::unique_ptr<nifti_image, NimDeleter> nim(nifti_image_read(files.header.c_str(), 0));
  if (!nim) fail(Status::corrupt_file, "nifti_clib cannot parse the header of " + quote(path));
  if (nim->nx * nim->ny * nim->nz != nvox || nim->datatype != raw.datatype)
    fail(Status::corrupt_file, "nifti_clib disagrees with the header of " + quote(path));
  std::vector<unsigned char> bytes = read_voxel_bytes(files.image, raw, nvox);

  Volume v;
  VolumeHeader& h = v.header;
  h.qform_code = nim->qform_code;
  h.sform_code = nim->sform_code;
  h.qform = from_dmat(nim->qto_xyz);
  h.sform = from_dmat(nim->sto_xyz);
  h.xyz_units = nim->xyz_units;
  h.source_datatype = nim->datatype;
  h.nifti_version = raw.version;
  h.scl_slope = raw.scl_slope;
  h.scl_inter = raw.scl_inter;
  h.descrip.assign(nim->descrip, strnlen(nim->descrip, sizeof(nim->descrip)));

  if (h.sform_code > 0) {
    v.affine = h.sform;
  } else if (h.qform_code > 0) {
    v.affine = h.qform;
  } else {
    // nibabel's shape_zoom_affine with default_x_flip: centred, x flipped.
    const double n[3] = {double(raw.dim[1]), double(raw.dim[2]), double(raw.dim[3])};
    const double z[3] = {-raw.pixdim[1], raw.pixdim[2], raw.pixdim[3]};
    // Analyze: SPM's origin (1-based voxel) when set and within (-dim, 2 dim), as nibabel.
    bool spm = raw.analyze && (raw.origin[0] || raw.origin[1] || raw.origin[2]);
    for (int i = 0; i < 3; ++i) spm = spm && raw.origin[i] > -n[i] && raw.origin[i] < 2 * n[i];
    v.affine = mat4_identity();
    for (int i = 0; i < 3; ++i) {
      v.affine[i * 4 + i] = z[i];
      v.affine[i * 4 + 3] = -(spm ? raw.origin[i] - 1.0 : (n[i] - 1) / 2.0) * z[i];
    }
  }
  for (double x : v.affine)
    if (!std::isfinite(x)) fail(Status::corrupt_file, "non-finite affine in " + quote(path));
  if (!(voxel_volume_mm3(v.affine) > 0)) fail(Status::corrupt_file, "singular affine in " + quote(path));

  // nibabel's rule (Nifti1Header.get_slope_inter): slope 0 or non-finite = no scaling; a
  // valid slope with a non-finite intercept is refused.
  const double slope = raw.scl_slope, inter = raw.scl_inter;
  const bool scale = slope != 0 && std::isfinite(slope);
  if (scale && !std::isfinite(inter))
    fail(Status::corrupt_file, "valid scl_slope " + std::to_string(slope) + " but non-finite scl_inter in " + quote(path) +
                                   " (nibabel refuses it too)");

  v.data = Tensor::empty(Shape{raw.dim[3], raw.dim[2], raw.dim[1]});
  float* dst = v.data.f32();
  const void* src = bytes.data();
  switch (nim->datatype) {
    case DT_UINT8: convert<uint8_t>(src, dst, nvox, slope, inter, scale); break;
    case DT_INT8: convert<int8_t>(src, dst, nvox, slope, inter, scale); break;
    case DT_INT16: convert<int16_t>(src, dst, nvox, slope, inter, scale); break;
    case DT_UINT16: convert<uint16_t>(src, dst, nvox, slope, inter, scale); break;
    case DT_INT32: convert<int32_t>(src, dst, nvox, slope, inter, scale); break;
    case DT_UINT32: convert<uint32_t>(src, dst, nvox, slope, inter, scale); break;
    case DT_FLOAT32: convert<float>(src, dst, nvox, slope, inter, scale); break;
    case DT_FLOAT64: convert<double>(src, dst, nvox, slope, inter, scale); break;
    default: fail(Status::unsupported, "unsupported NIfTI datatype in " + quote(path));
  }
  nim.reset();
  bytes = std::vector<unsigned char>();

  int64_t bad = 0, first_bad = -1;
  for (int64_t i = 0; i < nvox; ++i) {
    if (!std::isfinite(dst[i])) {
      if (first_bad < 0) first_bad = i;
      ++bad;
      if (opts.non_finite == NonFinitePolicy::replace_with_zero) dst[i] = 0.f;
    }
  }
  if (bad > 0 && opts.non_finite == NonFinitePolicy::error) {
    int64_t i = first_bad % raw.dim[1], j = first_bad / raw.dim[1] % raw.dim[2], k = first_bad / (raw.dim[1] * raw.dim[2]);
    fail(Status::corrupt_file, std::to_string(bad) + " NaN/Inf voxel(s) in " + quote(path) + ", first at (i,j,k) = (" +
                                   std::to_string(i) + "," + std::to_string(j) + "," + std::to_string(k) +
                                   "); read with non_finite = replace_with_zero to accept them");
  }
  return v;
}

void write_nifti(const std::string& path, const Volume& vol, const NiftiWriteOptions& opts) {
  validate_volume(vol);
  const bool gz = ends_with(path, ".nii.gz");
  if (!gz && !ends_with(path, ".nii"))
    fail(Status::invalid_argument, "NIfTI output name must end in .nii or .nii.gz: " + quote(path));
  int version = opts.nifti_version ? opts.nifti_version : vol.header.nifti_version;
  if (version != 1 && version != 2) fail(Status::invalid_argument, "NIfTI version must be 1 or 2");
  if (version == 1 && (vol.nx() > 32767 || vol.ny() > 32767 || vol.nz() > 32767))
    fail(Status::invalid_argument, "volume too large for NIfTI-1 (a dimension exceeds 32767); use NIfTI-2");

  const VolumeHeader& vh = vol.header;
  int qcode = vh.qform_code, scode = vh.sform_code;
  Mat4 qform = vh.qform, sform = vh.sform;
  if (qcode <= 0 && scode <= 0) {
    // No stored frame: record the affine itself so a reader gets the same geometry back.
    scode = NIFTI_XFORM_ALIGNED_ANAT;
    sform = vol.affine;
  }
  if (qcode <= 0) qform = scode > 0 ? sform : vol.affine;
  if (scode <= 0) sform = qform;

  const int64_t frames = opts.frames;
  if (frames < 1 || vol.nz() % frames != 0) fail(Status::invalid_argument, "NIfTI frames must divide the volume's depth");
  if (opts.datatype != DT_FLOAT32 && opts.datatype != DT_UINT8 && opts.datatype != DT_UINT16)
    fail(Status::invalid_argument, "NIfTI output datatype must be float32, uint8 or uint16");
  const int64_t nz = vol.nz() / frames;
  const int64_t dims[8] = {frames > 1 ? 4 : 3, vol.nx(), vol.ny(), nz, frames, 1, 1, 1};
  std::unique_ptr<nifti_image, NimDeleter> nim(nifti_make_new_nim(dims, opts.datatype, 0));
  if (!nim) fail(Status::out_of_memory, "cannot create a NIfTI header");
  double qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac;
  nifti_dmat44_to_quatern(to_dmat(qform), &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac);
  std::array<double, 3> sp = spacing(qcode > 0 ? qform : vol.affine);
  nim->quatern_b = qb, nim->quatern_c = qc, nim->quatern_d = qd;
  nim->qoffset_x = qx, nim->qoffset_y = qy, nim->qoffset_z = qz;
  nim->qfac = qfac;
  nim->pixdim[0] = qfac;
  nim->dx = nim->pixdim[1] = sp[0];
  nim->dy = nim->pixdim[2] = sp[1];
  nim->dz = nim->pixdim[3] = sp[2];
  nim->qform_code = qcode > 0 ? qcode : 0;
  nim->sform_code = scode;
  nim->sto_xyz = to_dmat(sform);
  nim->qto_xyz = to_dmat(qform);
  nim->xyz_units = vh.xyz_units ? vh.xyz_units : NIFTI_UNITS_MM;
  nim->scl_slope = 1.0;
  nim->scl_inter = 0.0;
  std::snprintf(nim->descrip, sizeof(nim->descrip), "%s", vh.descrip.c_str());

  std::vector<unsigned char> header;
  if (version == 1) {
    nifti_1_header h1;
    nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
    nim->iname_offset = 352;
    if (nifti_convert_nim2n1hdr(nim.get(), &h1) != 0) fail(Status::internal, "cannot build a NIfTI-1 header");
    h1.vox_offset = 352.f;
    std::memcpy(h1.magic, "n+1\0", 4);
    header.resize(sizeof(h1));
    std::memcpy(header.data(), &h1, sizeof(h1));
  } else {
    nifti_2_header h2;
    nim->nifti_type = NIFTI_FTYPE_NIFTI2_1;
    nim->iname_offset = 544;
    if (nifti_convert_nim2n2hdr(nim.get(), &h2) != 0) fail(Status::internal, "cannot build a NIfTI-2 header");
    h2.vox_offset = 544;
    const char magic2[8] = {'n', '+', '2', '\0', '\r', '\n', '\032', '\n'};
    std::memcpy(h2.magic, magic2, 8);
    header.resize(sizeof(h2));
    std::memcpy(header.data(), &h2, sizeof(h2));
  }
  header.insert(header.end(), 4, 0);  // empty extension flag

  // Temporary file beside the destination, renamed into place only once fully written.
  static std::atomic<unsigned> counter{0};
  std::string dir = ".", base = path;
  size_t slash = path.find_last_of('/');
  if (slash != std::string::npos) dir = path.substr(0, slash), base = path.substr(slash + 1);
  if (dir.empty()) dir = "/";
  const std::string tmp = dir + "/." + base + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const unsigned char* data = static_cast<const unsigned char*>(vol.data.raw());
  size_t nbytes = vol.data.nbytes();
  std::vector<unsigned char> stored;  // integer types: the values converted
  if (opts.datatype != DT_FLOAT32) {
    const int64_t n = vol.data.numel();
    const bool u8 = opts.datatype == DT_UINT8;
    const double top = u8 ? 255.0 : 65535.0;
    stored.resize(size_t(n) * (u8 ? 1 : 2));
    const float* f = vol.voxels();
    for (int64_t i = 0; i < n; ++i) {
      const double v = std::nearbyint(double(f[i]));
      if (!(v >= 0 && v <= top)) fail(Status::invalid_argument, "value " + std::to_string(f[i]) + " does not fit the NIfTI datatype");
      if (u8) {
        stored[size_t(i)] = static_cast<unsigned char>(v);
      } else {
        const uint16_t w = static_cast<uint16_t>(v);
        std::memcpy(stored.data() + 2 * i, &w, 2);
      }
    }
    data = stored.data();
    nbytes = stored.size();
  }
  bool ok = false;
  if (gz) {
    gzFile f = gzopen(tmp.c_str(), "wb6");
    if (f) {
      ok = gzwrite(f, header.data(), static_cast<unsigned>(header.size())) == static_cast<int>(header.size());
      for (size_t off = 0; ok && off < nbytes;) {
        unsigned chunk = static_cast<unsigned>(std::min<size_t>(nbytes - off, size_t(1) << 30));
        ok = gzwrite(f, data + off, chunk) == static_cast<int>(chunk);
        off += chunk;
      }
      ok = (gzclose(f) == Z_OK) && ok;
    }
  } else {
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f) {
      ok = std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
           std::fwrite(data, 1, nbytes, f) == nbytes;
      ok = (std::fclose(f) == 0) && ok;
    }
  }
  if (ok) ok = std::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    std::remove(tmp.c_str());
    fail(Status::io_error, "cannot write NIfTI file " + quote(path));
  }
}

}  // namespace vx
