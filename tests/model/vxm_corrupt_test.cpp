// Damaged or hostile .vxm files fail with Error(corrupt_file | unsupported | limit_exceeded)
// and a message saying what is wrong -- never a crash, and never an allocation larger than
// the file justifies (tracked by interposing the allocators in this test binary).
#include <doctest/doctest.h>

#include <malloc.h>
#include <zlib.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "../common/graph_nodes.h"
#include "model/model.h"
#include "model/vxm_reader.h"
#include "model/vxm_writer.h"

using namespace vx;
using json = nlohmann::json;

// --- allocation tracking: the largest single tensor allocation (Tensor storage comes from
// aligned_alloc, interposed here) while g_track is set.
static std::atomic<bool> g_track{false};
static std::atomic<size_t> g_largest{0};
static void note(size_t n) {
  if (!g_track.load(std::memory_order_relaxed)) return;
  size_t cur = g_largest.load();
  while (n > cur && !g_largest.compare_exchange_weak(cur, n)) {
  }
}
extern "C" void* aligned_alloc(size_t align, size_t n) {
  note(n);
  return memalign(align, n);
}

namespace {

using test::node;

Graph small_graph() {
  Graph g;
  g.inputs.push_back({"x", Shape{1, 2, 4, 4}});
  Tensor w = Tensor::empty({3, 2, 3, 3});
  for (int64_t i = 0; i < w.numel(); ++i) w.f32()[i] = 0.01f * float(i);
  g.weights["w"] = w;
  g.weights["b"] = Tensor::zeros({3});
  Node conv = node("conv", "Conv", {"x", "w", "b"}, {"c"});
  conv.attrs.set_ints("pads", {1, 1, 1, 1});
  g.nodes.push_back(conv);
  g.nodes.push_back(node("relu", "Relu", {"c"}, {"y"}));
  g.outputs = {"y"};
  return g;
}

std::vector<uint8_t> small_file(bool compress = false) {
  return write_vxm(small_graph(), json{{"name", "small"}}, {compress});
}

// The header of a file, and the file rebuilt around a changed header (CRC recomputed,
// tensor data kept at the same data-section offsets).
json header_of(const std::vector<uint8_t>& f) {
  uint64_t h = 0;
  std::memcpy(&h, f.data() + 16, 8);
  return json::parse(f.begin() + 32, f.begin() + 32 + long(h));
}
std::vector<uint8_t> with_header(const std::vector<uint8_t>& f, const std::string& header) {
  uint64_t h = 0;
  std::memcpy(&h, f.data() + 16, 8);
  const size_t old_start = (32 + h + 63) / 64 * 64;
  const size_t new_start = (32 + header.size() + 63) / 64 * 64;
  std::vector<uint8_t> out(new_start + (f.size() > old_start ? f.size() - old_start : 0), 0);
  std::memcpy(out.data(), f.data(), 32);
  const uint64_t len = header.size();
  std::memcpy(out.data() + 16, &len, 8);
  const uint32_t crc = uint32_t(crc32(0L, reinterpret_cast<const Bytef*>(header.data()), uInt(header.size())));
  std::memcpy(out.data() + 24, &crc, 4);
  std::memcpy(out.data() + 32, header.data(), header.size());
  if (f.size() > old_start) std::memcpy(out.data() + new_start, f.data() + old_start, f.size() - old_start);
  return out;
}
std::vector<uint8_t> with_header(const std::vector<uint8_t>& f, const json& header) { return with_header(f, header.dump()); }

// Loads and expects failure with this status and a message containing `what`; also checks the
// largest allocation stayed within a bound the file justifies.
void expect_fail(const std::vector<uint8_t>& f, Status status, const std::string& what, const LoadOptions& o = {}) {
  g_largest = 0;
  g_track = true;
  bool threw = false;
  try {
    Model::load_memory(f.data(), f.size(), o);
  } catch (const Error& e) {
    threw = true;
    CHECK_MESSAGE(e.status() == status, "status " << int(e.status()) << ": " << std::string(e.what()));
    CHECK_MESSAGE(std::string(e.what()).find(what) != std::string::npos, "message: " << std::string(e.what()));
  }
  g_track = false;
  CHECK_MESSAGE(threw, "expected failure containing '" << what << "'");
  CHECK(g_largest <= 16 * f.size() + (1u << 20));
}

json& tensor_entry(json& h, const std::string& name) {
  for (auto& t : h["tensors"])
    if (t["name"] == name) return t;
  throw std::runtime_error("no tensor " + name);
}

}  // namespace

TEST_CASE("the unmodified small file loads (so the failures below are the corruption's)") {
  for (bool z : {false, true}) {
    auto f = small_file(z);
    CHECK_NOTHROW(Model::load_memory(f.data(), f.size()));
    CHECK_NOTHROW(Model::load_memory(with_header(f, header_of(f)).data(), with_header(f, header_of(f)).size()));
  }
}

TEST_CASE("preamble: short, magic, version, header length, header CRC") {
  auto f = small_file();
  expect_fail({}, Status::corrupt_file, "shorter than the 32-byte preamble");
  auto g = f;
  g[0] = 'X';
  expect_fail(g, Status::corrupt_file, "wrong magic");
  g = f;
  g[8] = 2;
  expect_fail(g, Status::unsupported, "unsupported .vxm version 2");
  g = f;
  g[10] = 7;  // a newer minor version is readable
  CHECK_NOTHROW(Model::load_memory(g.data(), g.size()));
  g = f;
  g[16 + 7] = 0x7f;
  expect_fail(g, Status::corrupt_file, "header length");
  g = f;
  g[40] ^= 1;
  expect_fail(g, Status::corrupt_file, "header CRC-32 mismatch");
}

TEST_CASE("truncation at every byte fails cleanly") {
  for (bool z : {false, true}) {
    auto f = small_file(z);
    for (size_t n = 0; n < f.size(); ++n) {
      CAPTURE(n);
      g_largest = 0;
      g_track = true;
      bool threw = false;
      try {
        Model::load_memory(f.data(), n);
      } catch (const Error& e) {
        threw = e.status() == Status::corrupt_file;
      }
      g_track = false;
      CHECK(threw);
      CHECK(g_largest <= 16 * f.size() + (1u << 20));
    }
  }
}

namespace {

// What FORMAT.md defines for a damaged byte, by where it lies: the magic, the header length, the
// header CRC, the header and every tensor's stored bytes are covered by a check (corrupt_file);
// the major version gives unsupported; the minor version (a newer minor is read), the flags and
// the reserved word (ignored) and the padding before and between tensors (no CRC covers it)
// still load.
enum class Outcome { corrupt_file, unsupported, other_error, loads };

std::vector<Outcome> outcomes_by_format(const std::vector<uint8_t>& f) {
  std::vector<Outcome> want(f.size(), Outcome::loads);
  auto mark = [&](size_t from, size_t n, Outcome o) {
    for (size_t i = from; i < from + n; ++i) want.at(i) = o;
  };
  uint64_t h = 0;
  std::memcpy(&h, f.data() + 16, 8);
  mark(0, 8, Outcome::corrupt_file);      // magic
  mark(8, 2, Outcome::unsupported);       // major version
  mark(16, 8, Outcome::corrupt_file);     // header length: past the file, or the CRC no longer matches
  mark(24, 4, Outcome::corrupt_file);     // header CRC
  mark(32, h, Outcome::corrupt_file);     // header JSON, under the header CRC
  const size_t data_start = (32 + h + 63) / 64 * 64;
  const json header = header_of(f);
  for (const auto& t : header["tensors"])  // stored bytes, under each tensor's CRC
    mark(data_start + t["offset"].get<size_t>(), t["size"].get<size_t>(), Outcome::corrupt_file);
  return want;
}

std::string outcome_name(Outcome o) {
  switch (o) {
    case Outcome::corrupt_file: return "corrupt_file";
    case Outcome::unsupported: return "unsupported";
    case Outcome::other_error: return "another error";
    case Outcome::loads: break;
  }
  return "loads";
}

}  // namespace

TEST_CASE("every flipped byte gets the outcome FORMAT.md defines for where it lies") {
  for (bool z : {false, true}) {
    const auto f = small_file(z);
    const std::vector<Outcome> want = outcomes_by_format(f);
    size_t covered = 0;
    for (size_t i = 0; i < f.size(); ++i) {
      auto g = f;
      g[i] ^= 0x5a;
      Outcome got = Outcome::loads;
      std::string what;
      g_largest = 0;
      g_track = true;
      try {
        Model::load_memory(g.data(), g.size());
      } catch (const Error& e) {
        got = e.status() == Status::corrupt_file  ? Outcome::corrupt_file
              : e.status() == Status::unsupported ? Outcome::unsupported
                                                  : Outcome::other_error;
        what = std::string(" (status ") + std::to_string(int(e.status())) + ": " + e.what() + ")";
      }
      g_track = false;
      CHECK_MESSAGE(got == want[i], "compressed " << z << ", byte " << i << " of " << f.size() << ": expected "
                                                  << outcome_name(want[i]) << ", got " << outcome_name(got) << what);
      CHECK(g_largest <= 16 * f.size() + (1u << 20));
      covered += want[i] == Outcome::corrupt_file;
    }
    MESSAGE("compressed " << z << ": " << covered << " of " << f.size() << " bytes under a check");
    CHECK(covered > f.size() / 2);  // the classification itself is not empty
  }
}

TEST_CASE("header JSON: syntax, types, nesting") {
  auto f = small_file();
  expect_fail(with_header(f, std::string("{\"graph\": [")), Status::corrupt_file, "not valid JSON");
  expect_fail(with_header(f, std::string("[1, 2]")), Status::corrupt_file, "must be an object");
  expect_fail(with_header(f, std::string(200, '[') + std::string(200, ']')), Status::corrupt_file, "nested deeper");
  json h = header_of(f);
  h.erase("graph");
  expect_fail(with_header(f, h), Status::corrupt_file, "missing 'graph'");
  h = header_of(f);
  h["graph"]["nodes"][0]["inputs"] = "x";
  expect_fail(with_header(f, h), Status::corrupt_file, "'inputs' must be an array");
  h = header_of(f);
  h["graph"]["nodes"][0]["attrs"]["pads"] = {{"ints", {1.5}}};
  expect_fail(with_header(f, h), Status::corrupt_file, "must be an integer");
  h = header_of(f);
  h["metadata"] = 3;
  expect_fail(with_header(f, h), Status::corrupt_file, "'metadata' must be an object");
  h = header_of(f);
  h["some_future_key"] = {{"x", 1}};
  h["graph"]["nodes"][0]["future"] = true;
  auto ok = with_header(f, h);
  CHECK_NOTHROW(Model::load_memory(ok.data(), ok.size()));  // unknown keys are ignored
}

TEST_CASE("tensor table: offsets, sizes, CRC, dims, dtype, compression, limits") {
  auto f = small_file();
  json h = header_of(f);
  tensor_entry(h, "w")["offset"] = 1 << 20;
  expect_fail(with_header(f, h), Status::corrupt_file, "outside the file");
  h = header_of(f);
  tensor_entry(h, "w")["size"] = int64_t(1) << 40;
  expect_fail(with_header(f, h), Status::corrupt_file, "outside the file");
  h = header_of(f);
  tensor_entry(h, "w")["offset"] = 3;
  expect_fail(with_header(f, h), Status::corrupt_file, "multiple of 64");
  h = header_of(f);
  tensor_entry(h, "w")["offset"] = -64;
  expect_fail(with_header(f, h), Status::corrupt_file, "multiple of 64");
  h = header_of(f);
  tensor_entry(h, "w")["crc32"] = 12345;
  expect_fail(with_header(f, h), Status::corrupt_file, "CRC-32 mismatch");
  auto g = f;
  g.back() ^= 0xff;  // damage tensor bytes, header intact
  expect_fail(g, Status::corrupt_file, "CRC-32 mismatch");
  h = header_of(f);
  tensor_entry(h, "w")["shape"] = {int64_t(1) << 31, int64_t(1) << 31, int64_t(1) << 31, 4};
  expect_fail(with_header(f, h), Status::corrupt_file, "overflows");
  h = header_of(f);
  tensor_entry(h, "w")["shape"] = {int64_t(1) << 40};
  expect_fail(with_header(f, h), Status::corrupt_file, "invalid dimension");
  h = header_of(f);
  tensor_entry(h, "w")["shape"] = {100000, 100000};
  expect_fail(with_header(f, h), Status::limit_exceeded, "max_tensor_bytes");
  LoadOptions big;
  big.max_tensor_bytes = size_t(1) << 40;
  expect_fail(with_header(f, h), Status::corrupt_file, "stored size", big);
  h = header_of(f);
  tensor_entry(h, "w")["shape"] = {-1, 2};
  expect_fail(with_header(f, h), Status::corrupt_file, "invalid dimension");
  h = header_of(f);
  tensor_entry(h, "w")["shape"] = {1, 1, 1, 1, 1, 1, 1, 1, 1};  // tensors go up to rank 8 (kMaxRank)
  expect_fail(with_header(f, h), Status::corrupt_file, "rank 9");
  h = header_of(f);
  tensor_entry(h, "w")["dtype"] = "f128";
  expect_fail(with_header(f, h), Status::unsupported, "unknown dtype");
  h = header_of(f);
  tensor_entry(h, "w")["compression"] = "lz4";
  expect_fail(with_header(f, h), Status::unsupported, "unknown compression");
  h = header_of(f);
  h["tensors"].push_back(tensor_entry(h, "w"));
  expect_fail(with_header(f, h), Status::corrupt_file, "listed twice");
  LoadOptions tiny;
  tiny.max_file_bytes = 100;
  expect_fail(f, Status::limit_exceeded, "max_file_bytes", tiny);
  LoadOptions sha;
  sha.expected_sha256 = std::string(64, 'a');
  expect_fail(f, Status::corrupt_file, "SHA-256", sha);
}

TEST_CASE("zlib tensors: damaged stream, wrong length, impossible ratio") {
  auto f = small_file(true);
  json h = header_of(f);
  // Claim a shape far larger than the stored bytes can inflate to: rejected before allocating.
  tensor_entry(h, "w")["shape"] = {64, 1024, 1024};
  LoadOptions big;
  big.max_tensor_bytes = size_t(1) << 40;
  expect_fail(with_header(f, h), Status::corrupt_file, "cannot inflate", big);
  h = header_of(f);
  tensor_entry(h, "w")["shape"] = {3, 2, 3, 2};  // inflates to more bytes than the shape holds
  expect_fail(with_header(f, h), Status::corrupt_file, "inflates to", big);
  h = header_of(f);
  tensor_entry(h, "w")["shape"] = {3, 2, 3, 4};  // stream ends before the shape is full
  expect_fail(with_header(f, h), Status::corrupt_file, "zlib", big);
  // Damage the compressed bytes and fix up the CRC so only zlib can notice.
  h = header_of(f);
  json& t = tensor_entry(h, "w");
  uint64_t hl = 0;
  std::memcpy(&hl, f.data() + 16, 8);
  const size_t start = (32 + hl + 63) / 64 * 64 + t["offset"].get<size_t>();
  auto g = f;
  for (size_t i = 2; i < t["size"].get<size_t>(); ++i) g[start + i] = uint8_t(i * 37);
  t["crc32"] = uint32_t(crc32(0L, g.data() + start, uInt(t["size"].get<size_t>())));
  expect_fail(with_header(g, h), Status::corrupt_file, "zlib");
}

TEST_CASE("graph: cycle, dangling input, unknown op, duplicate, bad shapes, bad inputs") {
  auto f = small_file();
  json h = header_of(f);
  h["graph"]["nodes"][0]["inputs"][0] = "y";  // conv reads relu's output: a cycle
  expect_fail(with_header(f, h), Status::corrupt_file, "cycle");
  h = header_of(f);
  h["graph"]["nodes"][1]["inputs"][0] = "nowhere";
  expect_fail(with_header(f, h), Status::corrupt_file, "'nowhere' is not produced");
  h = header_of(f);
  h["graph"]["nodes"][1]["op"] = "Frobnicate";
  expect_fail(with_header(f, h), Status::unsupported, "unknown op 'Frobnicate'");
  h = header_of(f);
  h["graph"]["nodes"][1]["name"] = "conv";
  expect_fail(with_header(f, h), Status::corrupt_file, "used twice");
  h = header_of(f);
  h["graph"]["outputs"] = {"missing"};
  expect_fail(with_header(f, h), Status::corrupt_file, "graph output 'missing'");
  h = header_of(f);
  h["graph"]["inputs"][0]["shape"] = {1, 5, 4, 4};  // 5 channels into a 2-channel conv
  expect_fail(with_header(f, h), Status::corrupt_file, "conv");
  h = header_of(f);
  h["graph"]["inputs"][0]["shape"] = {1, 2, 0, 4};
  expect_fail(with_header(f, h), Status::corrupt_file, "invalid dimension");
  h = header_of(f);
  h["graph"]["inputs"][0]["shape"] = {1, 2, -1, -1};  // free dims: loads, shapes checked at run time
  auto ok = with_header(f, h);
  CHECK_NOTHROW(Model::load_memory(ok.data(), ok.size()));
  h = header_of(f);
  h["graph"]["inputs"][0]["name"] = "w";
  expect_fail(with_header(f, h), Status::corrupt_file, "name of a graph input");
}

TEST_CASE("load_file: missing file and directory are io_error") {
  CHECK_THROWS_AS(Model::load_file("/nonexistent/model.vxm"), Error);
  try {
    Model::load_file("/");
  } catch (const Error& e) {
    CHECK(e.status() == Status::io_error);
  }
}
