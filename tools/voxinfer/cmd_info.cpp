// `voxinfer info`: its usage (every option, what it does, an example) is kInfoSpec below,
// the table its parser reads.
#include <cstdio>
#include <map>

#include "args.h"
#include "commands.h"
#include "model/model.h"

namespace vx::cli {

const CommandSpec kInfoSpec{
    "info", "MODEL.vxm [--json]",
    "Prints a model's metadata, its inputs and outputs (names and shapes, -1 = any) and the\n"
    "SHA-256 of the file.",
    {{"json", nullptr, "print one JSON object instead of text"}},
    "voxinfer info weights/demo_classifier.vxm --json"};

int cmd_info(int argc, char** argv) {
  Args args(argc, argv, 2, kInfoSpec);
  if (args.positional().size() != 1) throw UsageError("give one MODEL.vxm", usage(kInfoSpec));
  auto model = Model::load_file(args.positional()[0]);
  const Graph& g = *model->graph;

  size_t weight_bytes = 0;
  for (const auto& w : g.weights) weight_bytes += w.second.nbytes();
  std::map<std::string, int> ops;
  for (const auto& n : g.nodes) ++ops[n.op];

  nlohmann::json out;
  out["file"] = args.positional()[0];
  out["sha256"] = model->sha256;
  out["metadata"] = model->metadata;
  for (const auto& in : g.inputs) {
    std::vector<int64_t> dims(in.shape.dims.begin(), in.shape.dims.begin() + in.shape.rank);
    out["graph"]["inputs"].push_back({{"name", in.name}, {"shape", dims}});
  }
  out["graph"]["outputs"] = g.outputs;
  out["graph"]["nodes"] = g.nodes.size();
  out["graph"]["ops"] = ops;
  out["graph"]["weights"] = g.weights.size();
  out["graph"]["weight_bytes"] = weight_bytes;

  if (args.flag("json")) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  const auto& m = model->metadata;
  auto str = [&](const char* k) { return m.contains(k) && m[k].is_string() ? m[k].get<std::string>() : std::string("-"); };
  std::printf("model         %s\n", str("name").c_str());
  std::printf("architecture  %s\n", str("architecture").c_str());
  std::printf("producer      %s\n", str("producer").c_str());
  std::printf("licence       %s\n", str("licence").c_str());
  std::printf("sha256        %s\n", model->sha256.c_str());
  for (const auto& in : out["graph"]["inputs"]) std::printf("input         %s %s\n", in["name"].get<std::string>().c_str(), in["shape"].dump().c_str());
  for (const auto& o : g.outputs) std::printf("output        %s\n", o.c_str());
  std::printf("graph         %zu nodes, %zu weights (%.1f MB)\n", g.nodes.size(), g.weights.size(), weight_bytes / 1e6);
  std::printf("metadata      %s\n", m.dump().c_str());
  return 0;
}

}  // namespace vx::cli
