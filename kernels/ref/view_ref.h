// Reference view kernels (issue 18): kernels/ref/view_ref.cpp.
#pragma once
#include "kernel_table.h"

namespace vx::kern::ref {

void view_copy_f32__scalar_ref(const ViewCopyParams& p, const float* src, float* dst);
void view_copy_backward(const ViewCopyParams& p, int64_t src_count, const float* dy, float* dx);
void select_f32__scalar_ref(const SelectParams& p, const float* mask, const float* a, const float* b, float* dst);
void select_backward(const SelectParams& p, const float* mask, const float* dy, int64_t a_count, float* da,
                     int64_t b_count, float* db);

}  // namespace vx::kern::ref
