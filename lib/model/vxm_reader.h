// Reads the .vxm model file (spec: weights/FORMAT.md) from bytes in memory.
#pragma once
#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>

#include "graph/graph.h"
#include "model/model.h"

namespace vx {

constexpr char kVxmMagic[8] = {'V', 'O', 'X', 'I', 'N', 'F', 'E', 'R'};
constexpr uint16_t kVxmMajor = 1;
constexpr uint16_t kVxmMinor = 0;
constexpr size_t kVxmPreamble = 32;  // magic, versions, flags, header length, header CRC, reserved

struct VxmContents {
  Graph graph;
  nlohmann::json metadata;  // always an object
};

// Parses and validates [data, data + size) structurally: preamble, header CRC, JSON, graph
// fields, tensor table, tensor CRCs (graph semantics -- order, shapes -- are Model's job).
// When `owner` is non-null it keeps `data` alive and uncompressed tensors view it in place
// (data must then be 64-byte aligned); otherwise every tensor is copied.
// Throws Error(corrupt_file | unsupported | limit_exceeded) saying what and where.
VxmContents read_vxm(const uint8_t* data, size_t size, const std::shared_ptr<uint8_t>& owner,
                     const LoadOptions& opts);

}  // namespace vx
