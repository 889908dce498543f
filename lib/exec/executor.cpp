#include "exec/executor.h"

#include "exec/batch_split.h"
#include "exec/fuse.h"
#include "exec/layout.h"

namespace vx {

Executor::Executor(std::shared_ptr<const Graph> graph, const kern::KernelTable& kernels, std::set<std::string> visible,
                   std::shared_ptr<kern::WeightPacks> packs)
    : Executor(std::move(graph), host_backend(kernels), std::move(visible), std::move(packs)) {}

Executor::Executor(std::shared_ptr<const Graph> graph, std::shared_ptr<ExecBackend> backend,
                   std::set<std::string> visible, std::shared_ptr<kern::WeightPacks> packs)
    : graph_(std::move(graph)), backend_(std::move(backend)), kernels_(backend_->kernels()),
      visible_(std::move(visible)), packs_(packs ? std::move(packs) : std::make_shared<kern::WeightPacks>()) {
  require(graph_ != nullptr, Status::invalid_argument, "executor needs a graph");
  order_ = graph_->topological_order();
  outputs_ = std::make_shared<OutputPool>(graph_->outputs.size());
}

void Executor::prepare(const std::vector<Shape>& input_shapes, const ExecOptions& options) {
  if (run_graph_ && input_shapes == planned_inputs_ && options.keep == planned_keep_ && !shapes_.empty()) return;
  std::set<std::string> keep = options.keep;
  keep.insert(visible_.begin(), visible_.end());
  if (!fused_graph_ || options.keep != planned_keep_) {
    fused_graph_ = std::make_shared<const Graph>(fuse_graph(*graph_, keep, backend_->host_memory()));
    fused_order_ = fused_graph_->topological_order();
  }
  // Shapes of the unfused graph: callers (Grad-CAM's backward pass) ask for any tensor's.
  shapes_ = infer_shapes(*graph_, order_, input_shapes);
  // Layouts depend on shapes (channels in 16s), so the graph run is made again for new shapes.
  // The fused graph has tensors of its own (a slabbed Conv+MaxPool's scratch).
  std::map<std::string, Shape> run_shapes = infer_shapes(*fused_graph_, fused_order_, input_shapes);
  run_graph_ = std::make_shared<const Graph>(assign_layouts(*fused_graph_, fused_order_, run_shapes, keep, kernels_));
  run_order_ = run_graph_->topological_order();
  plan_ = plan_memory(*run_graph_, run_order_, run_shapes, keep, backend_->host_memory());
  planned_inputs_ = input_shapes;
  planned_keep_ = options.keep;
  states_.clear();  // per-node state is for the old graph and shapes
  states_.resize(run_graph_->nodes.size());
  run_ops_.clear();  // each node's op, resolved once per plan
  for (const Node& n : run_graph_->nodes) run_ops_.push_back(find_op(n.op));
}

std::vector<Tensor> Executor::run(const std::vector<Tensor>& inputs, const ExecOptions& options) {
  std::vector<Shape> in_shapes;
  for (const auto& t : inputs) {
    require(t.defined(), Status::invalid_argument, "an input tensor is empty");
    require(t.dtype() == DType::f32, Status::invalid_argument, "inputs must be float32");
    in_shapes.push_back(t.shape());
  }
  last_split_ = false;
  const int64_t n = splittable_batch(in_shapes, options);
  if (n) {
    const int64_t chunk = samples_per_chunk(in_shapes[0], n, options.chunk_voxels);
    if (chunk < n) return run_in_chunks(inputs, options, chunk);
  }
  prepare(in_shapes, options);
  const Graph& g = *run_graph_;
  if (options.memory_limit && plan_.arena_bytes > options.memory_limit) {
    if (n) return run_in_chunks(inputs, options, 1);  // one sample at a time: the least a batch can take
    fail(Status::limit_exceeded, "this input needs " + std::to_string(plan_.arena_bytes) +
                                     " bytes of activations, over the session's memory limit of " +
                                     std::to_string(options.memory_limit));
  }
  if (plan_.arena_bytes > arena_capacity_) {
    arena_ = backend_->allocate(plan_.arena_bytes);
    arena_capacity_ = plan_.arena_bytes;
  }

  const bool host = backend_->host_memory();
  backend_->begin_run();
  values_.clear();
  for (size_t i = 0; i < inputs.size(); ++i)
    values_[g.inputs[i].name] = backend_->import_input(inputs[i].is_contiguous() ? inputs[i] : inputs[i].clone());
  for (const auto& w : g.weights) values_[w.first] = backend_->weight(w.first, w.second);

  const int64_t total = static_cast<int64_t>(run_order_.size());
  for (int64_t step = 0; step < total; ++step) {
    const Node& n = g.nodes[run_order_[step]];
    const OpDef* op = run_ops_[run_order_[step]];
    std::vector<const Tensor*> in;
    std::vector<Tensor> in_none;  // placeholder for omitted optional inputs
    in_none.reserve(n.inputs.size());
    for (const auto& name : n.inputs) {
      if (name.empty()) {
        in_none.emplace_back();
        in.push_back(&in_none.back());
      } else {
        in.push_back(&values_.at(name));
      }
    }
    std::vector<Tensor*> out;
    bool view_only = false;
    for (const auto& name : n.outputs) {
      const TensorPlan& tp = plan_.tensors.at(name);
      Tensor t;
      switch (tp.where) {
        case TensorPlan::Where::arena:
        case TensorPlan::Where::slice:
          t = Tensor::wrap_shared(arena_, tp.offset, tp.shape, DType::f32);
          break;
        case TensorPlan::Where::alias:
          t = values_.at(tp.alias_of).reshape(tp.shape);
          view_only = true;
          break;
        default:
          t = host ? new_output(tp.shape)
                   : Tensor::wrap_shared(backend_->allocate(tp.shape.numel() * sizeof(float)), 0, tp.shape, DType::f32);
          if (op->alias_input() >= 0 && &name == &n.outputs[0]) {
            if (host) {
              t.copy_from(in[op->alias_input()]->reshape(tp.shape));
            } else {
              kern::CopyParams cp;  // contiguous copy as one row
              cp.shape[4] = tp.shape.numel();
              cp.src_stride[4] = cp.dst_stride[4] = 1;
              kernels_.copy(cp, in[op->alias_input()]->f32(), t.f32());
            }
            view_only = true;
          }
      }
      out.push_back(&(values_[name] = t));
    }
    if (!view_only) {
      RunContext ctx{kernels_, states_[run_order_[step]]};
      ctx.packs = packs_.get();
      auto sc = plan_.scratch.find(static_cast<int>(step));
      if (sc != plan_.scratch.end()) {
        ctx.scratch = reinterpret_cast<float*>(arena_.get() + sc->second.offset);
        ctx.scratch_floats = sc->second.shape.numel();
      }
      auto ip = plan_.in_place.find(static_cast<int>(step));
      if (ip != plan_.in_place.end()) ctx.in_place_input = ip->second;
      try {
        op->run(n, in, out, ctx);
      } catch (const Error& e) {
        fail(e.status(), "node '" + n.name + "' (" + n.op + "): " + e.what());
      }
      if (!host) {
        try {
          backend_->check();
        } catch (const Error& e) {
          fail(e.status(), "node '" + n.name + "' (" + n.op + ") on " + backend_->name() + ": " + e.what());
        }
      }
    }
    if (options.progress && options.progress(step + 1, total))
      fail(Status::cancelled, "the run was cancelled after node '" + n.name + "'");
  }

  std::vector<Tensor> result;
  if (!host) {
    for (const auto& name : g.outputs) result.push_back(backend_->export_output(values_.at(name)));
    backend_->end_run();
    return result;
  }
  for (const auto& name : g.outputs) {
    const Tensor& t = values_.at(name);
    // An output that is also a graph input or weight must not hand out shared storage.
    result.push_back(plan_.tensors.at(name).where == TensorPlan::Where::output ? t : t.clone());
  }
  return result;
}

Tensor Executor::new_output(const Shape& shape) {
  return Tensor::wrap_shared(outputs_->take(static_cast<size_t>(shape.numel()) * sizeof(float)), 0, shape, DType::f32);
}

int64_t Executor::splittable_batch(const std::vector<Shape>& in_shapes, const ExecOptions& options) {
  if (in_shapes.empty() || !backend_->host_memory()) return 0;
  const int64_t n = in_shapes[0].rank > 0 ? in_shapes[0][0] : 0;
  if (n < 2) return 0;
  if (in_shapes != split_checked_) {
    split_checked_ = in_shapes;
    split_shapes_ = infer_shapes(*graph_, order_, in_shapes);
    split_ok_ = samples_independent(*graph_, split_shapes_, n);
  }
  if (!split_ok_) return 0;
  // Kept tensors are gathered per sample: each must be an activation (weights have no batch axis).
  auto has_weight = [&](const std::set<std::string>& names) {
    for (const auto& name : names)
      if (graph_->weights.count(name)) return true;
    return false;
  };
  if (has_weight(options.keep) || has_weight(visible_)) return 0;
  return n;
}

std::vector<Tensor> Executor::run_in_chunks(const std::vector<Tensor>& inputs, const ExecOptions& options,
                                            int64_t chunk) {
  if (!per_chunk_ || chunk_ != chunk) {  // the same graph declared for one chunk (its weights shared, not copied)
    auto g = std::make_shared<Graph>(*graph_);
    for (auto& in : g->inputs)
      if (in.shape.rank > 0) in.shape[0] = chunk;
    per_chunk_ = std::make_unique<Executor>(g, backend_, visible_, packs_);  // the same weights: the same packs
    chunk_ = chunk;
  }
  const int64_t n = inputs[0].shape()[0], chunks = n / chunk;
  last_split_ = true;
  split_kept_.clear();
  std::set<std::string> kept = options.keep;
  kept.insert(visible_.begin(), visible_.end());
  std::vector<Tensor> result;
  ExecOptions one = options;
  for (int64_t i = 0; i < chunks; ++i) {
    if (options.progress)
      one.progress = [&options, i, chunks](int64_t done, int64_t total) {
        return options.progress(i * total + done, chunks * total);
      };
    std::vector<Tensor> part;
    for (const auto& t : inputs) part.push_back(t.slice(0, i * chunk, chunk));
    // (A chunk over the memory limit runs one sample at a time inside per_chunk_.)
    std::vector<Tensor> out = per_chunk_->run(part, one);
    for (size_t k = 0; k < out.size(); ++k) {
      if (i == 0) {
        Shape s = out[k].shape();
        s[0] = n;
        result.push_back(new_output(s));
      }
      result[k].slice(0, i * chunk, chunk).copy_from(out[k]);
    }
    for (const auto& name : kept) {
      if (!split_shapes_.count(name)) continue;  // not a tensor of this graph: tensor() says so
      Tensor& whole = split_kept_[name];
      if (!whole.defined()) whole = Tensor::empty(split_shapes_.at(name), DType::f32);
      whole.slice(0, i * chunk, chunk).copy_from(per_chunk_->tensor(name));
    }
  }
  // As after a whole-batch run, inputs and outputs stay readable too (weights: tensor() has them).
  for (size_t k = 0; k < inputs.size() && k < graph_->inputs.size(); ++k) split_kept_[graph_->inputs[k].name] = inputs[k];
  for (size_t k = 0; k < result.size(); ++k) split_kept_[graph_->outputs[k]] = result[k];
  return result;
}

Tensor Executor::tensor(const std::string& name) const {
  if (last_split_) {
    auto it = split_kept_.find(name);
    if (it != split_kept_.end()) return it->second;
    auto w = graph_->weights.find(name);
    if (w != graph_->weights.end()) return w->second;
    fail(Status::invalid_argument, "tensor '" + name + "' was not kept alive in the last run (it ran in chunks of samples)");
  }
  auto it = values_.find(name);
  if (it == values_.end()) fail(Status::invalid_argument, "no tensor named '" + name + "' in the last run");
  auto pt = plan_.tensors.find(name);
  // Arena bytes (a slice's too: a Concat's or a Conv's over its input) are reused once read.
  const bool in_arena = pt != plan_.tensors.end() &&
                        (pt->second.where == TensorPlan::Where::arena || pt->second.where == TensorPlan::Where::slice);
  if (in_arena && !planned_keep_.count(name) && !visible_.count(name) && pt->second.last_step < static_cast<int>(run_order_.size()))
    fail(Status::invalid_argument, "tensor '" + name + "' was not kept alive in the last run");
  return it->second;
}

}  // namespace vx
