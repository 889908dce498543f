#include "model/vxm_reader.h"

#include <zlib.h>

#include <cstring>
#include <limits>
#include <set>

#include "core/error.h"

namespace vx {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxJsonDepth = 64;
constexpr int64_t kMaxDim = int64_t(1) << 31;
constexpr uint64_t kMaxDeflateRatio = 1032;  // deflate cannot expand data more than this

[[noreturn]] void corrupt(const std::string& what) { fail(Status::corrupt_file, "corrupt .vxm file: " + what); }

uint16_t rd16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t rd32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
uint64_t rd64(const uint8_t* p) { return uint64_t(rd32(p)) | uint64_t(rd32(p + 4)) << 32; }

uint32_t crc32_of(const uint8_t* p, size_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  while (n > 0) {  // zlib takes uInt lengths
    uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    c = crc32(c, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(c);
}

// Rejects nesting deeper than kMaxJsonDepth before the recursive parser and destructor see it.
void check_json_depth(const char* s, size_t n) {
  size_t depth = 0;
  bool in_str = false;
  for (size_t i = 0; i < n; ++i) {
    char c = s[i];
    if (in_str) {
      if (c == '\\') ++i;
      else if (c == '"') in_str = false;
    } else if (c == '"') {
      in_str = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) corrupt("header JSON is nested deeper than 64 levels");
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
}

const json& member(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) corrupt(where + ": missing '" + key + "'");
  return *it;
}

std::string get_string(const json& obj, const char* key, const std::string& where) {
  const json& v = member(obj, key, where);
  if (!v.is_string()) corrupt(where + ": '" + key + "' must be a string");
  return v.get<std::string>();
}

int64_t as_int(const json& v, const std::string& where) {
  if (!v.is_number_integer()) corrupt(where + " must be an integer");
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
    corrupt(where + " is out of range");
  return v.get<int64_t>();
}

const json& get_array(const json& obj, const char* key, const std::string& where) {
  const json& v = member(obj, key, where);
  if (!v.is_array()) corrupt(where + ": '" + key + "' must be an array");
  return v;
}

std::vector<std::string> string_list(const json& obj, const char* key, const std::string& where) {
  std::vector<std::string> out;
  for (const json& s : get_array(obj, key, where)) {
    if (!s.is_string()) corrupt(where + ": '" + key + "' must hold strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

// Dims of a shape array; `free_ok` allows -1 (graph inputs). Checks rank and magnitude.
Shape parse_shape(const json& arr, const std::string& where, bool free_ok, int min_rank) {
  if (!arr.is_array()) corrupt(where + ": shape must be an array");
  if (arr.size() > size_t(kMaxRank) || int(arr.size()) < min_rank)
    corrupt(where + ": rank " + std::to_string(arr.size()) + " is outside " + std::to_string(min_rank) + ".." +
                  std::to_string(kMaxRank));
  Shape s;
  s.rank = static_cast<int>(arr.size());
  for (int i = 0; i < s.rank; ++i) {
    int64_t d = as_int(arr[i], where + ": dim " + std::to_string(i));
    bool ok = free_ok ? (d == -1 || (d > 0 && d <= kMaxDim)) : (d >= 0 && d <= kMaxDim);
    if (!ok) corrupt(where + ": invalid dimension " + std::to_string(d));
    s[i] = d;
  }
  return s;
}

DType parse_dtype(const std::string& s, const std::string& where) {
  static const std::pair<const char*, DType> table[] = {
      {"f32", DType::f32}, {"f16", DType::f16}, {"bf16", DType::bf16}, {"i8", DType::i8},  {"u8", DType::u8},
      {"i16", DType::i16}, {"u16", DType::u16}, {"i32", DType::i32},   {"i64", DType::i64}, {"f64", DType::f64}};
  for (const auto& e : table)
    if (s == e.first) return e.second;
  fail(Status::unsupported, "corrupt .vxm file: " + where + ": unknown dtype '" + s + "'");
}

Attrs parse_attrs(const json& obj, const std::string& where) {
  Attrs a;
  if (!obj.is_object()) corrupt(where + ": 'attrs' must be an object");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string w = where + ": attribute '" + it.key() + "'";
    const json& v = it.value();
    if (!v.is_object() || v.size() != 1) corrupt(w + " must be {\"ints\"|\"floats\"|\"str\": value}");
    if (v.contains("ints")) {
      const json& l = v["ints"];
      if (!l.is_array()) corrupt(w + ": 'ints' must be an array");
      std::vector<int64_t> ints;
      for (const json& x : l) ints.push_back(as_int(x, w + " value"));
      a.set_ints(it.key(), std::move(ints));
    } else if (v.contains("floats")) {
      const json& l = v["floats"];
      if (!l.is_array()) corrupt(w + ": 'floats' must be an array");
      std::vector<double> fl;
      for (const json& x : l) {
        if (!x.is_number()) corrupt(w + ": values must be numbers");
        fl.push_back(x.get<double>());
      }
      a.set_floats(it.key(), std::move(fl));
    } else if (v.contains("str")) {
      if (!v["str"].is_string()) corrupt(w + ": 'str' must be a string");
      a.set_str(it.key(), v["str"].get<std::string>());
    } else {
      corrupt(w + " must be {\"ints\"|\"floats\"|\"str\": value}");
    }
  }
  return a;
}

void parse_graph(const json& g, Graph& graph) {
  if (!g.is_object()) corrupt("'graph' must be an object");
  const json& inputs = get_array(g, "inputs", "graph");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string w = "graph input " + std::to_string(i);
    if (!inputs[i].is_object()) corrupt(w + " must be an object");
    GraphInput in;
    in.name = get_string(inputs[i], "name", w);
    in.shape = parse_shape(member(inputs[i], "shape", w), w + " '" + in.name + "'", true, 1);
    graph.inputs.push_back(in);
  }
  graph.outputs = string_list(g, "outputs", "graph");
  const json& nodes = get_array(g, "nodes", "graph");
  graph.nodes.reserve(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::string w = "node " + std::to_string(i);
    const json& n = nodes[i];
    if (!n.is_object()) corrupt(w + " must be an object");
    Node node;
    node.name = get_string(n, "name", w);
    w += " '" + node.name + "'";
    node.op = get_string(n, "op", w);
    node.inputs = string_list(n, "inputs", w);
    node.outputs = string_list(n, "outputs", w);
    if (n.contains("attrs")) node.attrs = parse_attrs(n["attrs"], w);
    graph.nodes.push_back(std::move(node));
  }
}

Tensor read_tensor(const json& t, size_t index, const uint8_t* data, size_t size, size_t data_start,
                   const std::shared_ptr<uint8_t>& owner, const LoadOptions& opts, std::string& name) {
  std::string w = "tensor " + std::to_string(index);
  if (!t.is_object()) corrupt(w + " must be an object");
  name = get_string(t, "name", w);
  w += " '" + name + "'";
  const DType dtype = parse_dtype(get_string(t, "dtype", w), w);
  const Shape shape = parse_shape(member(t, "shape", w), w, false, 0);
  const int64_t offset = as_int(member(t, "offset", w), w + ": offset");
  const int64_t stored = as_int(member(t, "size", w), w + ": size");
  const std::string compression = t.contains("compression") ? get_string(t, "compression", w) : "none";
  const int64_t crc = as_int(member(t, "crc32", w), w + ": crc32");

  // Element count with overflow checks; each dim <= 2^31 so products fit after a division test.
  uint64_t nbytes = dtype_size(dtype);
  for (int i = 0; i < shape.rank; ++i) {
    uint64_t d = static_cast<uint64_t>(shape[i]);
    if (d != 0 && nbytes > std::numeric_limits<uint64_t>::max() / d) corrupt(w + ": size overflows");
    nbytes *= d;
  }
  if (nbytes > opts.max_tensor_bytes)
    fail(Status::limit_exceeded, "tensor '" + name + "' needs " + std::to_string(nbytes) +
                                     " bytes, more than LoadOptions::max_tensor_bytes (" +
                                     std::to_string(opts.max_tensor_bytes) + ")");
  if (offset < 0 || offset % 64 != 0) corrupt(w + ": offset " + std::to_string(offset) + " is not a non-negative multiple of 64");
  if (stored < 0) corrupt(w + ": negative size");
  const size_t avail = size - data_start;
  if (uint64_t(offset) > avail || uint64_t(stored) > avail - uint64_t(offset))
    corrupt(w + ": bytes [" + std::to_string(offset) + ", +" + std::to_string(stored) + ") lie outside the file (" +
            std::to_string(avail) + " data bytes)");
  if (crc < 0 || crc > int64_t(0xffffffffu)) corrupt(w + ": crc32 out of range");
  const uint8_t* src = data + data_start + offset;
  if (crc32_of(src, size_t(stored)) != uint32_t(crc)) corrupt(w + ": CRC-32 mismatch (damaged data)");

  if (compression == "none") {
    if (uint64_t(stored) != nbytes)
      corrupt(w + ": stored size " + std::to_string(stored) + " != " + std::to_string(nbytes) + " bytes of its shape");
    if (owner) return Tensor::wrap_shared(owner, size_t(src - owner.get()), shape, dtype);
    Tensor out = Tensor::empty(shape, dtype);
    if (nbytes) std::memcpy(out.raw(), src, nbytes);
    return out;
  }
  if (compression != "zlib") fail(Status::unsupported, "corrupt .vxm file: " + w + ": unknown compression '" + compression + "'");
  if (nbytes > uint64_t(stored) * kMaxDeflateRatio + 64)
    corrupt(w + ": " + std::to_string(stored) + " zlib bytes cannot inflate to " + std::to_string(nbytes));
  Tensor out = Tensor::empty(shape, dtype);
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) fail(Status::out_of_memory, "zlib inflateInit failed");
  const uint8_t* in = src;
  uint64_t in_left = uint64_t(stored);
  uint8_t* dst = static_cast<uint8_t*>(out.raw());
  uint64_t out_done = 0;
  int rc = Z_OK;
  uint8_t sink[64];
  while (rc == Z_OK) {
    if (zs.avail_in == 0 && in_left > 0) {
      zs.next_in = const_cast<Bytef*>(in);
      zs.avail_in = static_cast<uInt>(std::min<uint64_t>(in_left, 1u << 30));
      in += zs.avail_in;
      in_left -= zs.avail_in;
    }
    // Past the expected size inflate writes into a small sink, so excess output is detected.
    const bool full = out_done >= nbytes;
    zs.next_out = full ? sink : dst + out_done;
    zs.avail_out = full ? sizeof sink : static_cast<uInt>(std::min<uint64_t>(nbytes - out_done, 1u << 30));
    const uInt before = zs.avail_out;
    rc = inflate(&zs, Z_NO_FLUSH);
    out_done += before - zs.avail_out;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0) break;
    if (rc == Z_BUF_ERROR) rc = Z_OK;
    if (out_done > nbytes) break;
  }
  inflateEnd(&zs);
  if (out_done > nbytes) corrupt(w + ": zlib data inflates to more than the " + std::to_string(nbytes) + " bytes of its shape");
  if (rc != Z_STREAM_END) corrupt(w + ": zlib stream is damaged or truncated");
  if (out_done != nbytes)
    corrupt(w + ": zlib data inflates to " + std::to_string(out_done) + " bytes, expected " + std::to_string(nbytes));
  return out;
}

}  // namespace

VxmContents read_vxm(const uint8_t* data, size_t size, const std::shared_ptr<uint8_t>& owner, const LoadOptions& opts) {
  if (size > opts.max_file_bytes)
    fail(Status::limit_exceeded, "model file has " + std::to_string(size) + " bytes, more than LoadOptions::max_file_bytes");
  if (size < kVxmPreamble) corrupt("file has " + std::to_string(size) + " bytes, shorter than the 32-byte preamble");
  if (std::memcmp(data, kVxmMagic, 8) != 0) corrupt("wrong magic (not a .vxm file)");
  const uint16_t major = rd16(data + 8), minor = rd16(data + 10);
  if (major != kVxmMajor)
    fail(Status::unsupported, "unsupported .vxm version " + std::to_string(major) + "." + std::to_string(minor) +
                                  " (this reader knows major version " + std::to_string(kVxmMajor) + ")");
  const uint64_t header_len = rd64(data + 16);
  if (header_len > size - kVxmPreamble)
    corrupt("header length " + std::to_string(header_len) + " exceeds the file (" + std::to_string(size) + " bytes)");
  const uint8_t* header = data + kVxmPreamble;
  if (crc32_of(header, size_t(header_len)) != rd32(data + 24)) corrupt("header CRC-32 mismatch");
  const size_t data_start = (kVxmPreamble + size_t(header_len) + 63) / 64 * 64;

  check_json_depth(reinterpret_cast<const char*>(header), size_t(header_len));
  json root;
  try {
    root = json::parse(header, header + header_len);
  } catch (const json::exception& e) {
    corrupt(std::string("header is not valid JSON: ") + e.what());
  }
  if (!root.is_object()) corrupt("header JSON must be an object");

  VxmContents out;
  out.metadata = json::object();
  if (root.contains("metadata")) {
    if (!root["metadata"].is_object()) corrupt("'metadata' must be an object");
    out.metadata = root["metadata"];
  }
  parse_graph(member(root, "graph", "header"), out.graph);

  const json& tensors = get_array(root, "tensors", "header");
  const size_t effective_start = std::min(data_start, size);
  std::set<std::string> in_names;
  for (const auto& in : out.graph.inputs) in_names.insert(in.name);
  for (size_t i = 0; i < tensors.size(); ++i) {
    std::string name;
    Tensor t = read_tensor(tensors[i], i, data, size, effective_start, owner, opts, name);
    if (in_names.count(name)) corrupt("tensor '" + name + "' has the name of a graph input");
    if (!out.graph.weights.emplace(name, std::move(t)).second) corrupt("tensor '" + name + "' listed twice");
  }
  return out;
}

}  // namespace vx
