// Writes the .vxm model file (spec: weights/FORMAT.md). The Python writer (weights/vxm.py) is
// what ships models; this one exists for round-trip tests and tools.
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/graph.h"

namespace vx {

struct VxmWriteOptions {
  bool compress = false;  // zlib every tensor
};

std::vector<uint8_t> write_vxm(const Graph& graph, const nlohmann::json& metadata, const VxmWriteOptions& opts = {});

// The attribute <-> JSON mapping the format uses ({"ints": [...]}, {"floats": [...]}, {"str": ...}).
nlohmann::json attrs_to_json(const Attrs& attrs);

}  // namespace vx
