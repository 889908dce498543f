#include "nnunet/logit_accumulator.h"

#include <string>

#include "core/error.h"

namespace vx::nnunet {

LogitAccumulator::LogitAccumulator(int64_t heads, const std::array<int64_t, 3>& padded, std::vector<int64_t> patch,
                                   std::vector<float> gaussian, Kind kind)
    : heads_(heads), padded_(padded), patch_(std::move(patch)), gaussian_(std::move(gaussian)), kind_(kind) {
  if (patch_.size() == 2) patch_.insert(patch_.begin(), 1);
  if (patch_.size() != 3) throw Error(Status::invalid_argument, "nnU-Net accumulator: patch must have 2 or 3 axes");
  const int64_t tile = patch_[0] * patch_[1] * patch_[2];
  if (int64_t(gaussian_.size()) != tile) throw Error(Status::invalid_argument, "nnU-Net accumulator: Gaussian size differs from the patch");
  const int64_t vox = padded_[0] * padded_[1] * padded_[2];
  const bool half = kind_ == Kind::fp16;
  logits_ = LogitStore(size_t(heads_ * vox), half);
  weights_ = LogitStore(size_t(vox), half);
}

int64_t LogitAccumulator::bytes_needed(int64_t heads, const std::array<int64_t, 3>& padded, Kind kind) {
  return (heads + 1) * padded[0] * padded[1] * padded[2] * int64_t(LogitStore::bytes_per_value(kind == Kind::fp16));
}

void LogitAccumulator::add_tile(const Tile& t, const float* pred) {
  for (int a = 0; a < 3; ++a)
    if (t.start[a] < 0 || t.start[a] + patch_[a] > padded_[a])
      throw Error(Status::invalid_argument, "nnU-Net accumulator: tile outside the volume on axis " + std::to_string(a));
  const int64_t vox = padded_[0] * padded_[1] * padded_[2], tile = patch_[0] * patch_[1] * patch_[2];
  for (int64_t i = 0; i < patch_[0]; ++i)
    for (int64_t j = 0; j < patch_[1]; ++j) {
      const int64_t row = ((t.start[0] + i) * padded_[1] + t.start[1] + j) * padded_[2] + t.start[2];
      const int64_t trow = (i * patch_[1] + j) * patch_[2];
      for (int64_t c = 0; c < heads_; ++c) {
        const size_t acc = size_t(c * vox + row);
        const float* p = pred + c * tile + trow;
        for (int64_t k = 0; k < patch_[2]; ++k)
          logits_.set(acc + size_t(k), logits_.get(acc + size_t(k)) + p[k] * gaussian_[size_t(trow + k)]);
      }
      for (int64_t k = 0; k < patch_[2]; ++k)
        weights_.set(size_t(row + k), weights_.get(size_t(row + k)) + gaussian_[size_t(trow + k)]);
    }
}

LogitStore LogitAccumulator::finish(const std::array<int64_t, 3>& below, const std::array<int64_t, 3>& size) const {
  LogitAccumulator copy = *this;
  return copy.take(below, size);
}

LogitStore LogitAccumulator::take(const std::array<int64_t, 3>& below, const std::array<int64_t, 3>& size) {
  const int64_t vox = padded_[0] * padded_[1] * padded_[2], n = size[0] * size[1] * size[2];
  // In place: every destination index is at most its source index, and sources are read in
  // increasing order, so no value is overwritten before it is read.
  for (int64_t c = 0; c < heads_; ++c)
    for (int64_t i = 0; i < size[0]; ++i)
      for (int64_t j = 0; j < size[1]; ++j)
        for (int64_t k = 0; k < size[2]; ++k) {
          const int64_t src = ((below[0] + i) * padded_[1] + below[1] + j) * padded_[2] + below[2] + k;
          logits_.set(size_t(c * n + (i * size[1] + j) * size[2] + k), logits_.get(size_t(c * vox + src)) / weights_.get(size_t(src)));
        }
  logits_.truncate(size_t(heads_ * n));
  weights_.release();
  return std::move(logits_);
}

void add_fold(LogitStore& sum, LogitStore fold) {
  if (sum.empty()) {
    sum = std::move(fold);
    return;
  }
  if (sum.size() != fold.size() || sum.half() != fold.half())
    throw Error(Status::invalid_argument, "nnU-Net folds: logits of different sizes or precisions");
  for (size_t i = 0; i < sum.size(); ++i) sum.set(i, sum.get(i) + fold.get(i));
}

void divide_folds(LogitStore& sum, int64_t n_folds) {
  if (n_folds <= 1) return;
  for (size_t i = 0; i < sum.size(); ++i) sum.set(i, sum.get(i) / float(n_folds));
}

}  // namespace vx::nnunet
