// Faster view copies (issue 18): kernels/cpu/view_copy_cpu.cpp.
#pragma once
#include "kernel_table.h"

namespace vx::kern::cpu {

// view_copy with unit axes dropped and contiguous runs merged: rows are memcpy'd, a
// broadcast row is a fill, and a transpose that moves the unit-stride axis runs in
// 32x32 tiles (cache-friendly on both sides).
void view_copy_f32__cpu_blocked(const ViewCopyParams& p, const float* src, float* dst);

}  // namespace vx::kern::cpu
