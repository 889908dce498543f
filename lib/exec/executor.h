// Runs a graph: infers shapes for the given inputs, plans activation memory into one
// arena (kept between runs of the same shapes), then runs nodes in topological order.
// One executor per session; the graph it is given is shared and never modified. What it
// runs is a fused copy (fuse_graph: Conv+activation, Conv+residual Add, Conv+MaxPool in
// slabs) that keeps every graph output, every tensor in ExecOptions.keep and every tensor
// named in `visible` produced as before and readable after run(), so tensor() and Grad-CAM see the same
// values; the copy is made again only when `keep` changes. Its activations then get memory
// layouts (assign_layouts: blocked between convolutions where the kernels take it; plain
// for everything readable from outside), again whenever the input shapes change.
#pragma once
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "exec/backend.h"
#include "exec/batch_split.h"
#include "exec/output_pool.h"
#include "exec/planner.h"
#include "graph/graph.h"
#include "graph/op.h"

namespace vx {

// Called after each node with (done, total); returning true cancels the run.
using ProgressFn = std::function<bool(int64_t done, int64_t total)>;

struct ExecOptions {
  size_t memory_limit = 0;  // bytes of planned activations allowed; 0 = no limit
  ProgressFn progress;
  std::set<std::string> keep;  // tensors to keep readable after run() (see tensor())
  int64_t chunk_voxels = kChunkVoxels;  // a split batch's chunk size (samples_per_chunk)
};

class Executor {
 public:
  // `visible`: tensors never fused away and always kept readable, whatever run() keeps (e.g. a
  // model's Grad-CAM layers; each costs its size in the arena).
  // `packs`: where prepared kernels keep packed weights of graph's weights; give a model's
  // (Model::packs) so its sessions share them; NULL: the executor's own, freed with it. The
  // weights must not change while the packs live.
  Executor(std::shared_ptr<const Graph> graph, const kern::KernelTable& kernels, std::set<std::string> visible = {},
           std::shared_ptr<kern::WeightPacks> packs = nullptr);
  // Runs on `backend` (e.g. CUDA): arena and weights live where the backend says; run()
  // still takes host inputs and returns host outputs. tensor() then returns backend memory.
  Executor(std::shared_ptr<const Graph> graph, std::shared_ptr<ExecBackend> backend,
           std::set<std::string> visible = {}, std::shared_ptr<kern::WeightPacks> packs = nullptr);

  // Inputs in graph-input order (any strides); outputs in graph-output order, each a
  // tensor the caller owns (host memory: recycled from outputs the caller has released,
  // lib/exec/output_pool.h). Throws Error; Status::cancelled when progress says so.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs, const ExecOptions& options = {});

  // After run(): a view of a named tensor that was kept alive (options.keep), an output, an input or a weight.
  Tensor tensor(const std::string& name) const;
  // Of the last run; after a batch that ran in chunks, that of one chunk.
  const MemoryPlan& plan() const { return last_split_ ? per_chunk_->plan() : plan_; }  // of the fused graph
  // Shapes of every tensor of graph(), fused away or not, for the inputs of the last run
  // (the whole batch's, also when it ran in chunks).
  const std::map<std::string, Shape>& shapes() const { return last_split_ ? split_shapes_ : shapes_; }
  // Whether the last run went in chunks of samples (lib/exec/batch_split.h), and their size.
  bool last_run_split() const { return last_split_; }
  int64_t last_chunk() const { return last_split_ ? chunk_ : 0; }
  const Graph& graph() const { return *graph_; }  // as given, unfused
  const std::vector<int>& order() const { return order_; }  // of graph()
  // The graph run() ran last (fused) and its order; graph() before the first run().
  const Graph& run_graph() const {
    return last_split_ ? per_chunk_->run_graph() : run_graph_ ? *run_graph_ : *graph_;
  }
  const ExecBackend& backend() const { return *backend_; }
  const kern::WeightPacks& weight_packs() const { return *packs_; }

 private:
  void prepare(const std::vector<Shape>& input_shapes, const ExecOptions& options);
  Tensor new_output(const Shape& shape);  // host memory for a result, from outputs_
  // A batch whose samples the graph treats independently runs in chunks of a few samples, so
  // its activations are those of one chunk (lib/exec/batch_split.h); same results. Tensors kept
  // readable (ExecOptions.keep, `visible`) are gathered chunk by chunk into batch tensors. Under
  // a memory limit a batch whose chunk (or whole) does not fit runs one sample at a time.
  // Returns the batch size when the batch may run in chunks, else 0.
  int64_t splittable_batch(const std::vector<Shape>& input_shapes, const ExecOptions& options);
  std::vector<Tensor> run_in_chunks(const std::vector<Tensor>& inputs, const ExecOptions& options, int64_t chunk);

  std::shared_ptr<const Graph> graph_;
  std::shared_ptr<ExecBackend> backend_;
  const kern::KernelTable& kernels_;
  std::set<std::string> visible_;
  std::shared_ptr<kern::WeightPacks> packs_;
  std::vector<int> order_;
  std::shared_ptr<const Graph> fused_graph_;  // fused for planned_keep_; null until the first run
  std::vector<int> fused_order_;
  std::shared_ptr<const Graph> run_graph_;  // fused_graph_ with layouts for planned_inputs_
  std::vector<int> run_order_;
  std::vector<Shape> planned_inputs_;
  std::set<std::string> planned_keep_;
  std::map<std::string, Shape> shapes_;
  MemoryPlan plan_;
  std::vector<Shape> split_checked_;  // input shapes splittable_batch last looked at
  std::map<std::string, Shape> split_shapes_;  // their shapes (the whole batch's)
  bool split_ok_ = false;
  std::map<std::string, Tensor> split_kept_;  // kept tensors of a split batch, whole
  bool last_split_ = false;
  std::unique_ptr<Executor> per_chunk_;  // runs the chunks of a split batch (graph declared for one chunk)
  int64_t chunk_ = 0;                    // samples per chunk per_chunk_ was made for
  std::shared_ptr<uint8_t> arena_;
  std::shared_ptr<OutputPool> outputs_;
  size_t arena_capacity_ = 0;
  std::map<std::string, Tensor> values_;
  std::vector<std::unique_ptr<OpState>> states_;  // indexed like run_graph_ nodes
  std::vector<const OpDef*> run_ops_;             // each run_graph_ node's op (resolved in prepare)
};

}  // namespace vx
