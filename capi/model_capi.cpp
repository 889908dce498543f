// C entry points for models: loading, and the queries on a loaded model.
// This file defines an exported API 100 initialiser: voxinfer.h declares it only then.
#define VX_CAPI_DEFINES_LEGACY_INIT

#include <cctype>
#include <cstddef>

#include "capi/guard.h"
#include "capi/handles.h"
#include "capi/options.h"

// The published versions of vx_model_options, oldest first (layouts pinned in voxinfer.h).
static_assert(offsetof(vx_model_options, struct_size) == 0, "struct_size must come first");
static constexpr size_t kModelOptionsVersions[] = {VX_MODEL_OPTIONS_SIZE_V1};

using vx::Status;
using vx::capi::HandleKind;

namespace {

vx_model_options model_defaults() {
  vx_model_options o{};
  o.struct_size = sizeof o;
  return o;
}

vx::LoadOptions load_options(const vx_model_options* in) {
  const vx_model_options o = vx::capi::read_options(in, model_defaults(), kModelOptionsVersions, "vx_model_options");
  vx::LoadOptions lo;
  if (o.expected_sha256 && *o.expected_sha256) {
    std::string h = o.expected_sha256;
    bool hex = h.size() == 64;
    for (char& c : h) {
      if (!std::isxdigit(static_cast<unsigned char>(c))) hex = false;
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (!hex) vx::fail(Status::invalid_argument, "expected_sha256 must be 64 hex digits, got '" + h + "'");
    lo.expected_sha256 = h;
  }
  if (o.max_file_bytes) lo.max_file_bytes = static_cast<size_t>(o.max_file_bytes);
  return lo;
}

const vx::Model& model_of(const vx_model* m) {
  vx::capi::check_handle(m, HandleKind::model, "model");
  return *m->model;
}

void check_index(size_t index, size_t count, const char* what) {
  if (index >= count)
    vx::fail(Status::invalid_argument, std::string(what) + " index " + std::to_string(index) +
                                           " is out of range: the model has " + std::to_string(count));
}

void put_shape(const vx::Shape& s, int64_t* dims, int32_t* rank) {
  for (int i = 0; i < VX_MAX_RANK; ++i) dims[i] = i < s.rank ? s[i] : 0;
  *rank = s.rank;
}

}  // namespace

extern "C" {

VX_API vx_status vx_model_options_init_sized(vx_model_options* options, size_t struct_size) {
  return vx::capi::guarded([&] {
    vx::capi::init_options(options, struct_size, model_defaults(), kModelOptionsVersions, "vx_model_options");
  });
}

VX_API vx_status vx_model_options_init(vx_model_options* options) {
  return vx_model_options_init_sized(options, VX_MODEL_OPTIONS_SIZE_V1);
}

VX_API vx_status vx_model_load(const char* path, const vx_model_options* options, vx_model** out) {
  return vx::capi::guarded([&] {
    vx::capi::need(out, "out");
    *out = nullptr;
    vx::capi::need(path, "path");
    const vx::LoadOptions lo = load_options(options);
    *out = vx::capi::make_model_handle(vx::Model::load_file(path, lo));
  });
}

VX_API vx_status vx_model_load_memory(const void* data, size_t size, const vx_model_options* options,
                                      vx_model** out) {
  return vx::capi::guarded([&] {
    vx::capi::need(out, "out");
    *out = nullptr;
    vx::capi::need(data, "data");
    if (size == 0) vx::fail(Status::invalid_argument, "size is 0");
    const vx::LoadOptions lo = load_options(options);
    *out = vx::capi::make_model_handle(vx::Model::load_memory(data, size, lo));
  });
}

VX_API vx_status vx_model_free(vx_model* model) {
  return vx::capi::guarded([&] {
    if (!model) return;
    if (!vx::capi::unregister_handle(model, HandleKind::model))
      vx::fail(Status::invalid_argument, "vx_model_free: not a live vx_model (freed twice?)");
    delete model;
  });
}

VX_API vx_status vx_model_num_inputs(const vx_model* model, size_t* out) {
  return vx::capi::guarded([&] {
    const vx::Model& m = model_of(model);
    vx::capi::need(out, "out");
    *out = m.graph->inputs.size();
  });
}

VX_API vx_status vx_model_num_outputs(const vx_model* model, size_t* out) {
  return vx::capi::guarded([&] {
    const vx::Model& m = model_of(model);
    vx::capi::need(out, "out");
    *out = m.graph->outputs.size();
  });
}

VX_API vx_status vx_model_input_name(const vx_model* model, size_t index, const char** out) {
  return vx::capi::guarded([&] {
    const vx::Model& m = model_of(model);
    vx::capi::need(out, "out");
    check_index(index, m.graph->inputs.size(), "input");
    *out = m.graph->inputs[index].name.c_str();
  });
}

VX_API vx_status vx_model_output_name(const vx_model* model, size_t index, const char** out) {
  return vx::capi::guarded([&] {
    const vx::Model& m = model_of(model);
    vx::capi::need(out, "out");
    check_index(index, m.graph->outputs.size(), "output");
    *out = m.graph->outputs[index].c_str();
  });
}

VX_API vx_status vx_model_input_shape(const vx_model* model, size_t index, int64_t dims[VX_MAX_RANK],
                                      int32_t* rank) {
  return vx::capi::guarded([&] {
    const vx::Model& m = model_of(model);
    vx::capi::need(dims, "dims");
    vx::capi::need(rank, "rank");
    check_index(index, m.graph->inputs.size(), "input");
    put_shape(m.graph->inputs[index].shape, dims, rank);
  });
}

VX_API vx_status vx_model_output_shape(const vx_model* model, size_t index, int64_t dims[VX_MAX_RANK],
                                       int32_t* rank) {
  return vx::capi::guarded([&] {
    const vx::Model& m = model_of(model);
    vx::capi::need(dims, "dims");
    vx::capi::need(rank, "rank");
    const vx::Graph& g = *m.graph;
    check_index(index, g.outputs.size(), "output");
    const std::vector<int> order = m.order.empty() ? g.topological_order() : m.order;
    // Infer with two different sizes for every free input dimension; an output dimension
    // that differs between the two depends on a free one and is reported as -1.
    auto probe = [&](int64_t size) {
      std::vector<vx::Shape> in;
      for (const auto& gi : g.inputs) {
        vx::Shape s = gi.shape;
        for (int i = 0; i < s.rank; ++i)
          if (s[i] < 0) s[i] = i == 0 ? size / 32 : size;  // small batch, larger spatial
        in.push_back(s);
      }
      return vx::infer_shapes(g, order, in).at(g.outputs[index]);
    };
    vx::Shape a = probe(64);
    vx::Shape b = probe(96);
    if (a.rank != b.rank) vx::fail(Status::unsupported, "the output rank depends on the input shape");
    for (int i = 0; i < a.rank; ++i)
      if (a[i] != b[i]) a[i] = -1;
    put_shape(a, dims, rank);
  });
}

VX_API vx_status vx_model_metadata_json(const vx_model* model, const char** out) {
  return vx::capi::guarded([&] {
    vx::capi::check_handle(model, HandleKind::model, "model");
    vx::capi::need(out, "out");
    *out = model->metadata_json.c_str();
  });
}

VX_API vx_status vx_model_sha256(const vx_model* model, const char** out) {
  return vx::capi::guarded([&] {
    const vx::Model& m = model_of(model);
    vx::capi::need(out, "out");
    *out = m.sha256.c_str();
  });
}

}  // extern "C"
