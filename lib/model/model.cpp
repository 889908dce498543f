#include "model/model.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/sha256.h"
#include "model/vxm_reader.h"

namespace vx {
namespace {

// Structure and shape checks that need the op registry; graph errors become corrupt_file
// (unknown ops stay unsupported) so callers can tell a bad file from a bad call.
std::shared_ptr<const Model> finish(VxmContents c, std::string sha256, std::shared_ptr<kern::WeightPacks> packs) {
  auto m = std::make_shared<Model>();
  m->packs = std::move(packs);
  auto g = std::make_shared<Graph>(std::move(c.graph));
  try {
    m->order = g->topological_order();
    bool concrete = true;
    std::vector<Shape> shapes;
    for (const auto& in : g->inputs) {
      for (int d = 0; d < in.shape.rank; ++d) concrete = concrete && in.shape[d] > 0;
      shapes.push_back(in.shape);
    }
    if (concrete) infer_shapes(*g, m->order, shapes);
  } catch (const Error& e) {
    if (e.status() == Status::unsupported || e.status() == Status::limit_exceeded ||
        e.status() == Status::out_of_memory)
      throw;
    fail(Status::corrupt_file, std::string("invalid model graph: ") + e.what());
  }
  m->graph = std::move(g);
  m->metadata = std::move(c.metadata);
  m->sha256 = std::move(sha256);
  return m;
}

std::string checked_sha(const void* data, size_t size, const LoadOptions& opts) {
  std::string sha = sha256_hex(data, size);
  if (!opts.expected_sha256.empty() && opts.expected_sha256 != sha)
    fail(Status::corrupt_file, "model file SHA-256 " + sha + " does not match the expected " + opts.expected_sha256);
  return sha;
}

}  // namespace

std::shared_ptr<const Model> Model::load_memory(const void* data, size_t size, const LoadOptions& opts) {
  if (!data && size) fail(Status::invalid_argument, "load_memory: data is NULL");
  if (size > opts.max_file_bytes)
    fail(Status::limit_exceeded, "model has " + std::to_string(size) + " bytes, more than LoadOptions::max_file_bytes");
  std::string sha = checked_sha(data, size, opts);
  static const uint8_t empty = 0;
  // The caller's buffer need not outlive the call, so tensors are copied (owner = null).
  return finish(read_vxm(size ? static_cast<const uint8_t*>(data) : &empty, size, nullptr, opts), std::move(sha),
                std::make_shared<kern::WeightPacks>());
}

std::shared_ptr<const Model> Model::load_file(const std::string& path, const LoadOptions& opts) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(Status::io_error, "cannot open model file '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(Status::io_error, "'" + path + "' is not a regular file");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size > opts.max_file_bytes) {
    ::close(fd);
    fail(Status::limit_exceeded, "model file '" + path + "' has " + std::to_string(size) +
                                     " bytes, more than LoadOptions::max_file_bytes");
  }
  if (size == 0) {
    ::close(fd);
    fail(Status::corrupt_file, "corrupt .vxm file '" + path + "': the file is empty");
  }
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) fail(Status::io_error, "cannot map model file '" + path + "': " + std::strerror(errno));
  // Uncompressed weights stay in the mapping; it is unmapped when the last tensor goes (after
  // the packs: the model holds them, and each executor holds the graph as long as its packs).
  // The packs know the mapping, so they may give back the pages of weights they hold packed.
  std::shared_ptr<uint8_t> owner(static_cast<uint8_t*>(p), [size](uint8_t* q) { ::munmap(q, size); });
  try {
    std::string sha = checked_sha(p, size, opts);
    return finish(read_vxm(owner.get(), size, owner, opts), std::move(sha), std::make_shared<kern::WeightPacks>(p, size));
  } catch (const Error& e) {
    fail(e.status(), std::string(e.what()) + " (in '" + path + "')");
  }
}

namespace {
// A metadata value that is one name or an array of names; anything else gives none.
void add_names(const nlohmann::json& v, std::vector<std::string>& out) {
  if (v.is_string()) out.push_back(v.get<std::string>());
  else if (v.is_array())
    for (const auto& e : v)
      if (e.is_string()) out.push_back(e.get<std::string>());
}
}  // namespace

std::vector<std::string> metadata_gradcam_layers(const Model& model) {
  std::vector<std::string> names;
  const auto& md = model.metadata;
  if (md.is_object() && md.contains("gradcam_layer")) add_names(md["gradcam_layer"], names);
  return names;
}

std::set<std::string> metadata_layer_tensors(const Model& model) {
  std::vector<std::string> listed = metadata_gradcam_layers(model);
  const auto& md = model.metadata;
  if (md.is_object() && md.contains("gradcam_layers_per_sequence") && md["gradcam_layers_per_sequence"].is_object())
    for (const auto& kv : md["gradcam_layers_per_sequence"].items()) add_names(kv.value(), listed);
  const std::set<std::string> names(listed.begin(), listed.end());
  std::set<std::string> tensors = names;
  if (model.graph)
    for (const auto& n : model.graph->nodes)
      if (names.count(n.name)) tensors.insert(n.outputs.begin(), n.outputs.end());
  return tensors;
}

}  // namespace vx
