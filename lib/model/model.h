// A loaded model: its graph (weights included), its metadata, and the SHA-256 of the
// file it came from. Immutable once loaded, so many sessions on many threads share one.
#pragma once
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/graph.h"
#include "weight_packs.h"

namespace vx {

struct LoadOptions {
  std::string expected_sha256;     // lower-case hex; empty = accept any
  size_t max_file_bytes = size_t(8) << 30;   // refuse larger files
  size_t max_tensor_bytes = size_t(4) << 30; // refuse a single tensor larger than this
};

struct Model {
  std::shared_ptr<const Graph> graph;
  std::vector<int> order;        // topological order, computed once at load
  nlohmann::json metadata;       // as weights/FORMAT.md specifies
  std::string sha256;            // of the file's bytes, lower-case hex
  // Weights packed for the kernels (oneDNN layouts), shared by every session of this model
  // (give it to the Executor), made on their first runs, freed with the model and its sessions.
  std::shared_ptr<kern::WeightPacks> packs;

  // Parses and fully validates a .vxm (structure, checksums, shapes). Throws Error:
  // io_error, corrupt_file (with what and where), unsupported (op/version), limit_exceeded.
  static std::shared_ptr<const Model> load_file(const std::string& path, const LoadOptions& opts = {});
  static std::shared_ptr<const Model> load_memory(const void* data, size_t size, const LoadOptions& opts = {});
};

// The metadata's "gradcam_layer": one name or an array of names (empty when absent).
std::vector<std::string> metadata_gradcam_layers(const Model& model);

// Tensors the metadata names as Grad-CAM layers ("gradcam_layer", "gradcam_layers_per_sequence";
// a node name stands for its outputs): executors keep them unfused so they stay readable.
std::set<std::string> metadata_layer_tensors(const Model& model);

}  // namespace vx
