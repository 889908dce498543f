// `voxinfer n4`: its usage (every option, what it does, an example) is kN4Spec below,
// the table its parser reads.
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "io/nifti.h"
#include "io/volume_io.h"
#include "pipeline/staging.h"
#include "preprocess/n4.h"
#include "read_flags.h"

namespace vx::cli {

const CommandSpec kN4Spec{
    "n4", "--input IN --out OUT.nii.gz [options]",
    "N4 bias-field correction (Tustison 2010, as ITK's filter with SimpleITK's defaults): voxels\n"
    "<= 0 are left out of the fit and unchanged, every other voxel is divided by the field.",
    with_read_flags({{"input", "IN", "a NIfTI file or DICOM folder (required)"},
     {"out", "OUT.nii.gz", "the corrected volume (required)"},
     {"shrink", "N", "fit the field on the volume shrunk by N (default 1)"},
     {"iterations", "50,50,50,50", "maximum iterations per fitting level (default 50,50,50,50)"},
     {"mask", "M.nii.gz", "fit inside this mask (non-zero voxels; default: all voxels > 0)"},
     {"otsu", nullptr, "fit inside an Otsu mask (default: all voxels > 0)"},
     {"bias-out", "F.nii.gz", "also write the field, in the same folder as --out (default: not written)"},
     {"threads", "N", "OpenMP threads (default 0 = all cores)"},
     {"quiet", nullptr, "no progress on stderr"}}),
    "voxinfer n4 --input t1.nii.gz --out t1_n4.nii.gz --shrink 2 --bias-out t1_bias.nii.gz"};

int cmd_n4(int argc, char** argv) {
  Args args(argc, argv, 2, kN4Spec);
  const VolumeReadOptions ro = read_options(args);
  const Volume in = read_input(args.need("input"), ro, "n4");
  const std::string out = args.need("out");
  preprocess::N4Options opt;
  opt.shrink_factor = args.get_int("shrink", 1);
  opt.threads = args.get_int("threads", 0);
  if (args.has("iterations")) opt.iterations = args.get_int_list("iterations");
  const auto sp = spacing(in);  // i, j, k
  Tensor mask;
  if (args.has("mask")) {
    Volume m = read_input(args.get("mask"), ro, "n4");
    if (m.data.shape() != in.data.shape())
      fail(Status::shape_mismatch, "mask " + m.data.shape().str() + " does not match the image " + in.data.shape().str());
    mask = m.data;
  } else if (args.flag("otsu")) {
    const auto bytes = preprocess::otsu_mask(in.voxels(), in.data.numel());
    mask = Tensor::empty(in.data.shape());
    for (int64_t v = 0; v < mask.numel(); ++v) mask.f32()[v] = bytes[v] ? 1.f : 0.f;
  }
  auto res = preprocess::n4_bias_correct(in.data, {sp[2], sp[1], sp[0]}, mask, opt);

  // Both files appear together or not at all.
  auto dir_of = [](const std::string& p) {
    const auto slash = p.find_last_of('/');
    return slash == std::string::npos ? std::string(".") : p.substr(0, slash);
  };
  auto base_of = [](const std::string& p) {
    const auto slash = p.find_last_of('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
  };
  const std::string bias = args.get("bias-out");
  if (!bias.empty() && dir_of(bias) != dir_of(out)) fail(Status::invalid_argument, "--bias-out must be in the same folder as --out");
  pipeline::Staging staging(dir_of(out));
  Volume corrected = in;
  corrected.data = res[0];
  write_nifti(staging.path(base_of(out)), corrected);
  if (!bias.empty()) {
    Volume field = in;
    field.data = res[1];
    write_nifti(staging.path(base_of(bias)), field);
  }
  staging.commit();
  if (!args.flag("quiet")) std::printf("wrote %s%s%s\n", out.c_str(), bias.empty() ? "" : " and ", bias.c_str());
  return 0;
}

}  // namespace vx::cli
