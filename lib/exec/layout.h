// Layout propagation: chooses the memory layout of every activation of a (fused) graph so
// that consecutive layers never reorder. Blocked16 (oneDNN's nCdhw16c) flows between the ops
// that take it — convolutions, max/average pooling, channel Concat, transposed convolutions —
// and plain is kept for graph inputs, outputs, `keep` tensors (Grad-CAM and tensor() read
// them) and every other op. The choice is written into node attributes (vx_layout_x for a
// node's first input, vx_layout_y for its output; see ops/spatial.h), and a LayoutReorder node
// is inserted, just before the first reader, where a tensor's layout is not what a reader
// needs. Without blocked kernels (kernels.reorder == NULL) the graph comes back unchanged.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "kernel_table.h"

namespace vx {

// `shapes` holds every tensor's shape for this run; the inserted tensors' are added to it.
Graph assign_layouts(const Graph& g, const std::vector<int>& order, std::map<std::string, Shape>& shapes,
                     const std::set<std::string>& keep, const kern::KernelTable& kernels);

}  // namespace vx
