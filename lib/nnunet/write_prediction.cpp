#include "nnunet/write_prediction.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "core/error.h"
#include "io/nifti.h"

namespace vx::nnunet {

namespace {

bool ends_with(const std::string& s, const char* tail) {
  const std::string t(tail);
  return s.size() > t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

std::string temp_beside(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return dir + "." + base + ".partial-" + std::to_string(::getpid()) + (ends_with(base, ".nii.gz") ? ".nii.gz" : ".nii");
}

}  // namespace

void check_nifti_name(const std::string& path) {
  if (!ends_with(path, ".nii") && !ends_with(path, ".nii.gz"))
    fail(Status::invalid_argument, "output '" + path + "' must end in .nii or .nii.gz");
}

void write_prediction(const Prediction& r, const Volume& like, const std::string& out, const std::string& prob) {
  check_nifti_name(out);
  if (!prob.empty()) check_nifti_name(prob);
  Tensor lab = Tensor::empty(like.data.shape());
  if (int64_t(r.labels.size()) != lab.numel()) fail(Status::shape_mismatch, "prediction and input grid differ");
  for (int64_t i = 0; i < lab.numel(); ++i) lab.f32()[i] = float(r.labels[size_t(i)]);
  const Volume seg = volume_like(like, lab);
  NiftiWriteOptions wo;
  wo.datatype = r.labels_fit_uint8 ? 2 : 512;
  std::vector<std::pair<std::string, std::string>> written;  // temporary, final
  try {
    if (!prob.empty()) {
      if (int64_t(r.probabilities.size()) != r.heads * lab.numel()) fail(Status::invalid_argument, "no probabilities were computed");
      Volume pv = seg;
      pv.data = Tensor::empty({r.heads * like.nz(), like.ny(), like.nx()});
      std::copy(r.probabilities.begin(), r.probabilities.end(), pv.data.f32());
      NiftiWriteOptions po;
      po.frames = r.heads;
      written.emplace_back(temp_beside(prob), prob);
      write_nifti(written.back().first, pv, po);
    }
    written.emplace_back(temp_beside(out), out);
    write_nifti(written.back().first, seg, wo);
    for (const auto& w : written)
      if (std::rename(w.first.c_str(), w.second.c_str()) != 0) fail(Status::io_error, "cannot write '" + w.second + "'");
  } catch (...) {
    for (const auto& w : written) std::remove(w.first.c_str());
    throw;
  }
}

}  // namespace vx::nnunet
