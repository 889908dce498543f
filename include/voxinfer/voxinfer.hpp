// Header-only C++17 RAII wrapper over the voxinfer C API (include/voxinfer/voxinfer.h).
// Uses nothing but the C ABI, so it works with any build of libvoxinfer. Failures throw
// voxinfer::Error carrying the status and the library's message.
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "voxinfer/voxinfer.h"

namespace voxinfer {

class Error : public std::runtime_error {
 public:
  Error(vx_status status, const std::string& msg) : std::runtime_error(msg), status_(status) {}
  vx_status status() const { return status_; }

 private:
  vx_status status_;
};

inline void check(vx_status s) {
  if (s != VX_OK) throw Error(s, std::string(vx_status_name(s)) + ": " + vx_last_error());
}

// A float32 tensor held in a std::vector (row-major).
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

class Model {
 public:
  explicit Model(const std::string& path, const vx_model_options* options = nullptr) {
    vx_model* m = nullptr;
    check(vx_model_load(path.c_str(), options, &m));
    model_.reset(m);
  }
  const vx_model* get() const { return model_.get(); }
  size_t num_inputs() const {
    size_t n = 0;
    check(vx_model_num_inputs(get(), &n));
    return n;
  }
  size_t num_outputs() const {
    size_t n = 0;
    check(vx_model_num_outputs(get(), &n));
    return n;
  }
  std::string sha256() const {
    const char* s = nullptr;
    check(vx_model_sha256(get(), &s));
    return s;
  }
  std::string metadata_json() const {
    const char* s = nullptr;
    check(vx_model_metadata_json(get(), &s));
    return s;
  }

 private:
  struct Free {
    void operator()(vx_model* m) const { (void)vx_model_free(m); }  // a deleter cannot report
  };
  std::unique_ptr<vx_model, Free> model_;
};

// One session: use it from one thread at a time.
class Session {
 public:
  explicit Session(const Model& model, int threads = 0) {
    vx_session_options o;
    check(vx_session_options_init(&o));
    o.threads = threads;
    vx_session* s = nullptr;
    check(vx_session_create(model.get(), &o, &s));
    session_.reset(s);
    num_outputs_ = model.num_outputs();
  }
  explicit Session(const Model& model, const vx_session_options& options) {
    vx_session* s = nullptr;
    check(vx_session_create(model.get(), &options, &s));
    session_.reset(s);
    num_outputs_ = model.num_outputs();
  }

  // Inputs in the model's order; returns the outputs in the model's order.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) {
    std::vector<const float*> data;
    std::vector<const int64_t*> shapes;
    std::vector<int32_t> ranks;
    for (const auto& t : inputs) {
      data.push_back(t.data.data());
      shapes.push_back(t.shape.data());
      ranks.push_back(static_cast<int32_t>(t.shape.size()));
    }
    std::vector<vx_tensor*> handles(num_outputs_, nullptr);
    check(vx_session_run(session_.get(), inputs.size(), data.data(), shapes.data(), ranks.data(), handles.size(),
                         handles.data()));
    std::vector<Tensor> out;
    for (vx_tensor* h : handles) {
      std::unique_ptr<vx_tensor, TensorFree> owned(h);
      int64_t dims[VX_MAX_RANK];
      int32_t rank = 0;
      const float* p = nullptr;
      size_t n = 0;
      check(vx_tensor_shape(h, dims, &rank));
      check(vx_tensor_data(h, &p));
      check(vx_tensor_numel(h, &n));
      out.push_back({std::vector<int64_t>(dims, dims + rank), std::vector<float>(p, p + n)});
    }
    return out;
  }

 private:
  struct Free {
    void operator()(vx_session* s) const { (void)vx_session_free(s); }
  };
  struct TensorFree {
    void operator()(vx_tensor* t) const { (void)vx_tensor_free(t); }
  };
  std::unique_ptr<vx_session, Free> session_;
  size_t num_outputs_ = 0;
};

}  // namespace voxinfer
