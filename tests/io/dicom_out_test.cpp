// The DICOM writers' refusals and atomicity (lib/io/dicom_seg_write.h, lib/io/dicom_sc_write.h),
// below the CLI: a mask off the reference grid, fractional labels, a label above the names and
// an empty mask without names are refused before anything is written; a write into a folder
// that cannot be written fails with io_error and leaves no temporary file; the secondary
// captures refuse an RGB buffer of the wrong size and an existing folder, and on success leave
// exactly one file per slice and no temporary folder. The slice-to-source matching gives every
// slice of the real series the image at its position (each once). What the files hold is checked
// against pydicom in tests/io/test_dicom_seg_out.py and tests/pipeline/test_exam_dicom_out.py.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <set>

#include "core/error.h"
#include "io/dicom_sc_write.h"
#include "io/dicom_seg_write.h"
#include "io/dicom_source.h"
#include "io/volume_io.h"

using namespace vx;
namespace fs = std::filesystem;

namespace {

const std::string kSeries = std::string(VX_TEST_DATA_DIR) + "/mri/dicom-brain-t1-sag-35sl";

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/vx_dicom_out_XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
  size_t entries() const { return size_t(std::distance(fs::directory_iterator(path), fs::directory_iterator())); }
};

Status status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.status();
  }
  return Status::ok;
}

}  // namespace

TEST_CASE("source images are matched to the slices of the series, each once") {
  const Volume ref = read_volume(kSeries);
  const DicomSource src = read_dicom_source(kSeries);
  CHECK(src.images.size() == size_t(ref.nz()));
  CHECK(!src.frame_of_reference_uid.empty());
  const std::vector<std::vector<int>> at = source_images_per_slice(src, ref.affine, ref.nz());
  std::set<int> seen;
  for (const auto& images : at) {
    CHECK(images.size() == 1);
    seen.insert(images.begin(), images.end());
  }
  CHECK(seen.size() == size_t(ref.nz()));
}

TEST_CASE("the SEG writer refuses bad masks and leaves nothing") {
  TempDir tmp;
  const Volume ref = read_volume(kSeries);
  const DicomSource src = read_dicom_source(kSeries);
  const std::string out = (tmp.path / "seg.dcm").string();
  Volume mask = volume_like(ref, Tensor::zeros(ref.data.shape()));

  CHECK(status_of([&] { write_dicom_seg(out, mask, ref, src); }) == Status::invalid_argument);  // empty, no names
  DicomSegOptions named;
  named.label_names = {"lesion"};
  mask.voxels()[100] = 2.f;
  CHECK(status_of([&] { write_dicom_seg(out, mask, ref, src, named); }) == Status::invalid_argument);  // 2 > 1 name
  mask.voxels()[100] = 0.5f;
  CHECK(status_of([&] { write_dicom_seg(out, mask, ref, src, named); }) == Status::invalid_argument);  // fractional
  mask.voxels()[100] = 1.f;
  Volume shifted = mask;
  shifted.affine[3] += 0.01;
  CHECK(status_of([&] { write_dicom_seg(out, shifted, ref, src, named); }) == Status::shape_mismatch);
  CHECK(tmp.entries() == 0);

  CHECK(status_of([&] { write_dicom_seg((tmp.path / "missing" / "seg.dcm").string(), mask, ref, src, named); }) ==
        Status::io_error);
  CHECK(tmp.entries() == 0);

  const DicomSegResult r = write_dicom_seg(out, mask, ref, src, named);
  CHECK(r.labels == std::vector<int>{1});
  CHECK(r.frames == ref.nz());
  CHECK(r.frames_interpolated == 0);
  CHECK(tmp.entries() == 1);
}

TEST_CASE("the secondary-capture writer refuses a wrong buffer or an existing folder and writes one file per slice") {
  TempDir tmp;
  const Volume ref = read_volume(kSeries);
  const DicomSource src = read_dicom_source(kSeries);
  const std::string dir = (tmp.path / "sc").string();
  std::vector<uint8_t> rgb(size_t(ref.data.numel()) * 3, 7);
  std::vector<uint8_t> short_rgb(rgb.begin(), rgb.end() - 3);
  CHECK(status_of([&] { write_dicom_sc_series(dir, short_rgb, ref, src); }) == Status::invalid_argument);
  CHECK(tmp.entries() == 0);
  const DicomScResult r = write_dicom_sc_series(dir, rgb, ref, src);
  CHECK(r.files.size() == size_t(ref.nz()));
  CHECK(tmp.entries() == 1);  // the folder, no temporary one beside it
  CHECK(size_t(std::distance(fs::directory_iterator(dir), fs::directory_iterator())) == size_t(ref.nz()));
  CHECK(status_of([&] { write_dicom_sc_series(dir, rgb, ref, src); }) == Status::io_error);
}

TEST_CASE("a NIfTI path is no DICOM source") {
  const std::string nii = std::string(VX_TEST_DATA_DIR) + "/mri/abdomen-lumbar-totalseg/example_mr_sm.nii.gz";
  CHECK(!is_dicom_input(nii));
  CHECK(is_dicom_input(kSeries));
  CHECK(status_of([&] { read_dicom_source(nii); }) == Status::invalid_argument);
}
