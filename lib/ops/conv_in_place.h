// A convolution that writes its output over its own input, for an input nothing reads after
// it (the memory planner puts them in the same bytes: lib/exec/planner.h). This takes the
// decoder of a 3-D U-Net at 128^3 from three full-resolution tensors live at once to two.
// Output plane z (of each channel block) lands on input plane z (of the same block), which
// output planes up to z + pad_begin still read. So the output is computed in slabs of planes
// along the outermost spatial axis into scratch, from a gathered copy of the input planes the
// slab reads, and each plane is written back once no later slab reads what it covers.
// Holds when: one sample, stride 1, output extents equal to the input's, output channels <=
// input channels, both in the same layout (the planner checks this before sharing bytes).
#pragma once
#include "kernel_table.h"

namespace vx {

class PreparedConvs;

// True when `p` meets the conditions above (any slab axis works: all strides 1).
bool conv_in_place_applies(const kern::ConvParams& p);

// Scratch floats run_conv_in_place needs for `p` (the planner sets them aside in the arena).
int64_t conv_in_place_scratch_floats(const kern::ConvParams& p);

// dst = act(conv(src) + bias) where dst == src (the same pointer; the input is destroyed).
// `scratch` holds conv_in_place_scratch_floats(p) floats; when it is NULL or smaller, a buffer
// of the calling thread, kept for later calls, is used instead. The slab convolutions go
// through `prepared` (the node's, packing into `packs`) when given, else the table's entries.
void run_conv_in_place(const kern::KernelTable& kernels, const kern::ConvParams& p, const kern::ConvPostOps& post,
                       const float* wei, const float* bias, float* data, float* scratch = nullptr,
                       int64_t scratch_floats = 0, PreparedConvs* prepared = nullptr,
                       kern::WeightPacks* packs = nullptr);

}  // namespace vx
