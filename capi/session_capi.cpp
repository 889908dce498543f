// C entry points for sessions (one executor each) and the result tensors they return.
//
// Threads: each run caps OpenMP at the session's thread count with omp_set_num_threads on
// the calling thread (a per-thread setting in OpenMP) and restores the previous value
// afterwards, so sessions on different threads each get their own cap and the host's
// setting is untouched. Idle OpenMP workers: libgomp reads OMP_WAIT_POLICY/GOMP_SPINCOUNT
// once, when it is loaded, so a library cannot change them later; with them unset, idle
// workers spin briefly and then sleep in the kernel. A host that wants no spinning at all
// sets OMP_WAIT_POLICY=passive in the environment before the process starts.
// This file defines an exported API 100 initialiser: voxinfer.h declares it only then.
#define VX_CAPI_DEFINES_LEGACY_INIT

#include <omp.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "capi/guard.h"
#include "capi/handles.h"
#include "capi/options.h"
#include "capi/session_internal.h"
#include "backend/cuda_loader.h"
#include "kernel_table.h"

// The published versions of vx_session_options, oldest first (layouts pinned in voxinfer.h).
static_assert(offsetof(vx_session_options, struct_size) == 0, "struct_size must come first");
static constexpr size_t kSessionOptionsVersions[] = {VX_SESSION_OPTIONS_SIZE_V1, VX_SESSION_OPTIONS_SIZE_V2};

using vx::Status;
using vx::capi::BusyGuard;
using vx::capi::HandleKind;
using vx::capi::ThreadCap;

namespace {

vx_session_options session_defaults() {
  vx_session_options o{};
  o.struct_size = sizeof o;
  o.device_index = -1;  // $VOXINFER_CUDA_DEVICE, else 0 (what a version-1 caller gets too)
  return o;
}

// The CUDA device of a session: the option, or (-1) the environment's, else 0.
int cuda_device_of(const vx_session_options& o) {
  if (o.device_index < -1)
    vx::fail(Status::invalid_argument,
             "device_index is " + std::to_string(o.device_index) + "; use -1 (default) or a device 0, 1, ...");
  return o.device_index >= 0 ? o.device_index : vx::backend::cuda_device_from_env();
}

void log(const vx_session* s, vx_log_level level, const std::string& msg) {
  if (s->log) s->log(s->log_user, level, msg.c_str());
}

vx_session* session_of(vx_session* s) {
  vx::capi::check_handle(s, HandleKind::session, "session");
  return s;
}

std::vector<vx::Shape> output_shapes(const vx_session* s, const std::vector<vx::Shape>& in) {
  const vx::Graph& g = *s->model->graph;
  const auto all = vx::infer_shapes(g, s->exec->order(), in);
  std::vector<vx::Shape> out;
  for (const auto& name : g.outputs) out.push_back(all.at(name));
  return out;
}

void check_outputs(const vx_session* s, size_t num_outputs) {
  const size_t n = s->model->graph->outputs.size();
  if (num_outputs != n)
    vx::fail(Status::invalid_argument, "the model has " + std::to_string(n) + " output(s), room for " +
                                           std::to_string(num_outputs) + " given");
}

std::vector<vx::Tensor> run(vx_session* s, const std::vector<vx::Shape>& shapes, const float* const* inputs) {
  vx::capi::need(inputs, "inputs");
  std::vector<vx::Tensor> in;
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (!inputs[i]) vx::fail(Status::invalid_argument, "inputs[" + std::to_string(i) + "] is NULL");
    // The executor only reads its inputs, so wrapping the caller's const buffer is safe.
    in.push_back(vx::Tensor::wrap(const_cast<float*>(inputs[i]), shapes[i]));
  }
  vx::ExecOptions opts;
  opts.memory_limit = s->memory_limit;
  if (s->progress) {
    vx_progress_fn fn = s->progress;
    void* user = s->progress_user;
    opts.progress = [fn, user](int64_t done, int64_t total) { return fn(user, "run", done, total) != 0; };
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<vx::Tensor> out;
  {
    ThreadCap cap(s->threads);
    out = s->exec->run(in, opts);
  }
  if (s->log) {
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    log(s, VX_LOG_DEBUG, "run: " + std::to_string(s->exec->order().size()) + " nodes in " + std::to_string(ms) +
                             " ms on " + std::to_string(s->threads) + " thread(s)");
  }
  for (auto& t : out)
    if (!t.is_contiguous()) t = t.clone();
  return out;
}

// Runs the model once on zeros at the declared input shapes (a -1 batch as 1), so the first
// real run does not pay for oneDNN's primitive creation and weight packing (10-30x a steady
// run). Skipped with VX_WARMUP=0 or when a non-batch dimension is fixed only at run time. A
// failure here (a memory limit, say) is left for the real run to report.
void warm_up(vx_session* s) {
  const char* env = std::getenv("VX_WARMUP");
  if ((env && std::strcmp(env, "0") == 0) || s->deterministic) return;  // reference kernels prepare nothing
  std::vector<vx::Shape> shapes;
  for (const auto& gi : s->model->graph->inputs) {
    vx::Shape sh = gi.shape;
    if (sh.rank > 0 && sh[0] < 0) sh[0] = 1;
    for (int d = 0; d < sh.rank; ++d)
      if (sh[d] < 1) return log(s, VX_LOG_DEBUG, "session: no warm-up ('" + gi.name + "' has a run-time shape)");
    shapes.push_back(sh);
  }
  const auto t0 = std::chrono::steady_clock::now();
  try {
    std::vector<vx::Tensor> in;
    for (const auto& sh : shapes) in.push_back(vx::Tensor::zeros(sh));
    vx::ExecOptions opts;
    opts.memory_limit = s->memory_limit;
    ThreadCap cap(s->threads);
    s->exec->run(in, opts);
  } catch (const std::exception& e) {
    return log(s, VX_LOG_DEBUG, std::string("session: warm-up skipped: ") + e.what());
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  log(s, VX_LOG_DEBUG, "session: warmed up in " + std::to_string(ms) + " ms (VX_WARMUP=0 skips it)");
}

}  // namespace

namespace vx::capi {

// Validates the input arrays and returns their shapes (in model-input order).
std::vector<vx::Shape> input_shapes(const vx_session* s, size_t num_inputs, const int64_t* const* shapes,
                                    const int32_t* ranks) {
  const vx::Graph& g = *s->model->graph;
  if (num_inputs != g.inputs.size())
    vx::fail(Status::invalid_argument, "the model takes " + std::to_string(g.inputs.size()) + " input(s), " +
                                           std::to_string(num_inputs) + " given");
  vx::capi::need(shapes, "shapes");
  vx::capi::need(ranks, "ranks");
  std::vector<vx::Shape> out;
  for (size_t i = 0; i < num_inputs; ++i) {
    const vx::GraphInput& gi = g.inputs[i];
    const std::string which = "input " + std::to_string(i) + " ('" + gi.name + "')";
    if (!shapes[i]) vx::fail(Status::invalid_argument, "shapes[" + std::to_string(i) + "] is NULL");
    if (ranks[i] < 1 || ranks[i] > VX_MAX_RANK)
      vx::fail(Status::invalid_argument, which + ": rank " + std::to_string(ranks[i]) + " is not in 1..5");
    vx::Shape sh = vx::Shape::from(shapes[i], ranks[i]);
    for (int d = 0; d < sh.rank; ++d)
      if (sh[d] < 1) vx::fail(Status::invalid_argument, which + ": shape " + sh.str() + " has a dimension < 1");
    bool fits = sh.rank == gi.shape.rank;
    for (int d = 0; fits && d < sh.rank; ++d) fits = gi.shape[d] < 0 || gi.shape[d] == sh[d];
    if (!fits)
      vx::fail(Status::shape_mismatch,
               which + ": shape " + sh.str() + " does not fit the declared " + gi.shape.str() + " (-1 = any)");
    out.push_back(sh);
  }
  return out;
}

}  // namespace vx::capi

using vx::capi::input_shapes;

extern "C" {

VX_API vx_status vx_session_options_init_sized(vx_session_options* options, size_t struct_size) {
  return vx::capi::guarded([&] {
    vx::capi::init_options(options, struct_size, session_defaults(), kSessionOptionsVersions, "vx_session_options");
  });
}

VX_API vx_status vx_session_options_init(vx_session_options* options) {
  return vx_session_options_init_sized(options, VX_SESSION_OPTIONS_SIZE_V1);
}

VX_API vx_status vx_session_create(const vx_model* model, const vx_session_options* options, vx_session** out) {
  return vx::capi::guarded([&] {
    vx::capi::need(out, "out");
    *out = nullptr;
    vx::capi::check_handle(model, HandleKind::model, "model");
    const vx_session_options o =
        vx::capi::read_options(options, session_defaults(), kSessionOptionsVersions, "vx_session_options");

    const std::string backend = o.backend ? o.backend : "cpu";
    // "cuda": the module is loaded here, on first use, for device o.device_index.
    if (backend != "cpu" && backend != "cuda")
      vx::fail(Status::invalid_argument, "unknown backend '" + backend + "' (known: \"cpu\", \"cuda\")");
    const std::string precision = o.precision ? o.precision : "fp32";
    if (precision == "fp16" || precision == "bf16")
      vx::fail(Status::unsupported, "precision '" + precision + "' is not supported yet (use \"fp32\")");
    if (precision != "fp32")
      vx::fail(Status::invalid_argument, "unknown precision '" + precision + "' (known: \"fp32\")");
    if (o.threads < 0)
      vx::fail(Status::invalid_argument, "threads is " + std::to_string(o.threads) + "; use 0 (default) or more");
    const int device = cuda_device_of(o);

    std::shared_ptr<vx::ExecBackend> cuda;
    if (backend == "cuda") cuda = vx::backend::make_cuda_backend(device);

    auto s = std::make_unique<vx_session>();
    s->model = model->model;
    s->threads = o.threads > 0 ? o.threads : omp_get_max_threads();
    s->deterministic = o.deterministic != 0;
    s->memory_limit = static_cast<size_t>(o.memory_limit_bytes);
    s->progress = o.progress;
    s->progress_user = o.progress_user;
    s->log = o.log;
    s->log_user = o.log_user;
    if (cuda) {
      s->exec = std::make_unique<vx::Executor>(s->model->graph, cuda, vx::metadata_layer_tensors(*s->model));
      log(s.get(), VX_LOG_INFO, "session: backend cuda (" + vx::backend::cuda_backend_description(*cuda) + "), fp32");
      vx::capi::register_handle(s.get(), HandleKind::session);
      *out = s.release();
      return;
    }
    const vx::kern::KernelTable& kernels = s->deterministic ? vx::kern::ref_kernels() : vx::kern::default_kernels();
    s->exec = std::make_unique<vx::Executor>(s->model->graph, kernels, vx::metadata_layer_tensors(*s->model),
                                             s->model->packs);  // packed weights shared by the model's sessions
    log(s.get(), VX_LOG_INFO, std::string("session: backend cpu, kernels ") + kernels.name + ", fp32, " +
                                  std::to_string(s->threads) + " thread(s)" +
                                  (s->deterministic ? ", deterministic" : ""));
    warm_up(s.get());
    vx::capi::register_handle(s.get(), HandleKind::session);
    *out = s.release();
  });
}

VX_API vx_status vx_session_free(vx_session* session) {
  return vx::capi::guarded([&] {
    if (!session) return;
    if (!vx::capi::unregister_handle(session, HandleKind::session))
      vx::fail(Status::invalid_argument, "vx_session_free: not a live vx_session (freed twice?)");
    delete session;
  });
}

VX_API vx_status vx_session_set_progress(vx_session* session, vx_progress_fn progress, void* user) {
  return vx::capi::guarded([&] {
    vx_session* s = session_of(session);
    BusyGuard busy(s);
    s->progress = progress;
    s->progress_user = user;
  });
}

VX_API vx_status vx_session_output_shape(vx_session* session, size_t num_inputs, const int64_t* const* shapes,
                                         const int32_t* ranks, size_t index, int64_t dims[VX_MAX_RANK],
                                         int32_t* rank) {
  return vx::capi::guarded([&] {
    vx_session* s = session_of(session);
    vx::capi::need(dims, "dims");
    vx::capi::need(rank, "rank");
    const auto outs = output_shapes(s, input_shapes(s, num_inputs, shapes, ranks));
    if (index >= outs.size())
      vx::fail(Status::invalid_argument, "output index " + std::to_string(index) + " is out of range: the model has " +
                                             std::to_string(outs.size()));
    for (int i = 0; i < VX_MAX_RANK; ++i) dims[i] = i < outs[index].rank ? outs[index][i] : 0;
    *rank = outs[index].rank;
  });
}

VX_API vx_status vx_session_run(vx_session* session, size_t num_inputs, const float* const* inputs,
                                const int64_t* const* shapes, const int32_t* ranks, size_t num_outputs,
                                vx_tensor** outputs) {
  return vx::capi::guarded([&] {
    vx::capi::need(outputs, "outputs");
    for (size_t j = 0; j < num_outputs; ++j) outputs[j] = nullptr;
    vx_session* s = session_of(session);
    BusyGuard busy(s);
    check_outputs(s, num_outputs);
    const auto in_shapes = input_shapes(s, num_inputs, shapes, ranks);
    std::vector<vx::Tensor> out = run(s, in_shapes, inputs);
    std::vector<std::unique_ptr<vx_tensor>> handles;
    for (auto& t : out) {
      handles.push_back(std::make_unique<vx_tensor>());
      handles.back()->tensor = std::move(t);
    }
    for (size_t j = 0; j < num_outputs; ++j) {
      vx::capi::register_handle(handles[j].get(), HandleKind::tensor);
      outputs[j] = handles[j].release();
    }
  });
}

VX_API vx_status vx_session_run_into(vx_session* session, size_t num_inputs, const float* const* inputs,
                                     const int64_t* const* shapes, const int32_t* ranks, size_t num_outputs,
                                     float* const* outputs, const size_t* capacities) {
  return vx::capi::guarded([&] {
    vx_session* s = session_of(session);
    BusyGuard busy(s);
    check_outputs(s, num_outputs);
    vx::capi::need(outputs, "outputs");
    vx::capi::need(capacities, "capacities");
    const auto in_shapes = input_shapes(s, num_inputs, shapes, ranks);
    const auto out_shapes = output_shapes(s, in_shapes);
    for (size_t j = 0; j < num_outputs; ++j) {
      if (!outputs[j]) vx::fail(Status::invalid_argument, "outputs[" + std::to_string(j) + "] is NULL");
      const size_t need = static_cast<size_t>(out_shapes[j].numel());
      if (capacities[j] < need)
        vx::fail(Status::invalid_argument, "output " + std::to_string(j) + " has shape " + out_shapes[j].str() +
                                               " and needs " + std::to_string(need) + " floats; the buffer holds " +
                                               std::to_string(capacities[j]));
    }
    std::vector<vx::Tensor> out = run(s, in_shapes, inputs);
    for (size_t j = 0; j < num_outputs; ++j) std::memcpy(outputs[j], out[j].raw(), out[j].nbytes());
  });
}

VX_API vx_status vx_tensor_shape(const vx_tensor* tensor, int64_t dims[VX_MAX_RANK], int32_t* rank) {
  return vx::capi::guarded([&] {
    vx::capi::check_handle(tensor, HandleKind::tensor, "tensor");
    vx::capi::need(dims, "dims");
    vx::capi::need(rank, "rank");
    const vx::Shape& sh = tensor->tensor.shape();
    for (int i = 0; i < VX_MAX_RANK; ++i) dims[i] = i < sh.rank ? sh[i] : 0;
    *rank = sh.rank;
  });
}

VX_API vx_status vx_tensor_numel(const vx_tensor* tensor, size_t* out) {
  return vx::capi::guarded([&] {
    vx::capi::check_handle(tensor, HandleKind::tensor, "tensor");
    vx::capi::need(out, "out");
    *out = static_cast<size_t>(tensor->tensor.numel());
  });
}

VX_API vx_status vx_tensor_data(const vx_tensor* tensor, const float** out) {
  return vx::capi::guarded([&] {
    vx::capi::check_handle(tensor, HandleKind::tensor, "tensor");
    vx::capi::need(out, "out");
    *out = tensor->tensor.f32();
  });
}

VX_API vx_status vx_tensor_free(vx_tensor* tensor) {
  return vx::capi::guarded([&] {
    if (!tensor) return;
    if (!vx::capi::unregister_handle(tensor, HandleKind::tensor))
      vx::fail(Status::invalid_argument, "vx_tensor_free: not a live vx_tensor (freed twice?)");
    delete tensor;
  });
}

}  // extern "C"
