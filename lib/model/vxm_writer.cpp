#include "model/vxm_writer.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "model/vxm_reader.h"

namespace vx {

using json = nlohmann::json;

json attrs_to_json(const Attrs& attrs) {
  json out = json::object();
  for (const auto& kv : attrs.all()) {
    const Attr& a = kv.second;
    switch (a.kind) {
      case Attr::Kind::ints: out[kv.first] = {{"ints", a.ints}}; break;
      case Attr::Kind::floats: out[kv.first] = {{"floats", a.floats}}; break;
      case Attr::Kind::str: out[kv.first] = {{"str", a.str}}; break;
    }
  }
  return out;
}

static void put(std::vector<uint8_t>& b, size_t at, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b[at + i] = uint8_t(v >> (8 * i));
}

std::vector<uint8_t> write_vxm(const Graph& graph, const json& metadata, const VxmWriteOptions& opts) {
  json g;
  g["inputs"] = json::array();
  for (const auto& in : graph.inputs)
    g["inputs"].push_back({{"name", in.name}, {"shape", std::vector<int64_t>(in.shape.dims.begin(), in.shape.dims.begin() + in.shape.rank)}});
  g["outputs"] = graph.outputs;
  g["nodes"] = json::array();
  for (const auto& n : graph.nodes)
    g["nodes"].push_back({{"name", n.name}, {"op", n.op}, {"inputs", n.inputs}, {"outputs", n.outputs},
                          {"attrs", attrs_to_json(n.attrs)}});

  std::vector<std::vector<uint8_t>> blobs;
  json table = json::array();
  uint64_t offset = 0, end = 0;  // the file ends right after the last tensor's bytes
  for (const auto& kv : graph.weights) {
    const Tensor t = kv.second.is_contiguous() ? kv.second : kv.second.clone();
    const uint8_t* raw = static_cast<const uint8_t*>(t.raw());
    std::vector<uint8_t> blob;
    if (opts.compress) {
      uLongf len = compressBound(uLong(t.nbytes()));
      blob.resize(len);
      if (compress2(blob.data(), &len, raw, uLong(t.nbytes()), Z_BEST_COMPRESSION) != Z_OK)
        fail(Status::internal, "zlib compression failed for tensor '" + kv.first + "'");
      blob.resize(len);
    } else {
      blob.assign(raw, raw + t.nbytes());
    }
    const uint32_t crc = uint32_t(crc32(0L, blob.data(), uInt(blob.size())));
    table.push_back({{"name", kv.first}, {"dtype", dtype_name(t.dtype())},
                     {"shape", std::vector<int64_t>(t.shape().dims.begin(), t.shape().dims.begin() + t.rank())},
                     {"offset", offset}, {"size", blob.size()}, {"compression", opts.compress ? "zlib" : "none"},
                     {"crc32", crc}});
    end = offset + blob.size();
    offset += (blob.size() + 63) / 64 * 64;
    blobs.push_back(std::move(blob));
  }
  json root = {{"metadata", metadata.is_object() ? metadata : json::object()}, {"graph", g}, {"tensors", table}};
  const std::string header = root.dump();
  const size_t data_start = (kVxmPreamble + header.size() + 63) / 64 * 64;
  std::vector<uint8_t> out(std::max<size_t>(kVxmPreamble + header.size(), data_start + end), 0);
  std::memcpy(out.data(), kVxmMagic, 8);
  put(out, 8, kVxmMajor, 2);
  put(out, 10, kVxmMinor, 2);
  put(out, 16, header.size(), 8);
  put(out, 24, crc32(0L, reinterpret_cast<const Bytef*>(header.data()), uInt(header.size())), 4);
  std::memcpy(out.data() + kVxmPreamble, header.data(), header.size());
  size_t at = data_start;
  for (const auto& b : blobs) {
    if (!b.empty()) std::memcpy(out.data() + at, b.data(), b.size());
    at += (b.size() + 63) / 64 * 64;
  }
  return out;
}

}  // namespace vx
