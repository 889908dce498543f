// Registry of live handles. A mutex-guarded set: a lookup costs nanoseconds, a run costs
// milliseconds, and in exchange a stale or foreign handle is an error, not a crash.
#include <mutex>
#include <unordered_map>

#include "capi/handles.h"

namespace vx::capi {
namespace {
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::unordered_map<const void*, HandleKind>& registry() {
  static auto* r = new std::unordered_map<const void*, HandleKind>();  // never destroyed: safe at exit
  return *r;
}
const char* kind_name(HandleKind k) {
  switch (k) {
    case HandleKind::model: return "vx_model";
    case HandleKind::session: return "vx_session";
    case HandleKind::tensor: return "vx_tensor";
    case HandleKind::volume: return "vx_volume";
    case HandleKind::exam: return "vx_exam";
  }
  return "handle";
}
}  // namespace

void register_handle(const void* p, HandleKind kind) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry()[p] = kind;
}

bool unregister_handle(const void* p, HandleKind kind) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto it = registry().find(p);
  if (it == registry().end() || it->second != kind) return false;
  registry().erase(it);
  return true;
}

bool is_live(const void* p, HandleKind kind) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto it = registry().find(p);
  return it != registry().end() && it->second == kind;
}

void check_handle(const void* h, HandleKind kind, const char* what) {
  if (!h) fail(Status::invalid_argument, std::string(what) + " is NULL");
  if (!is_live(h, kind))
    fail(Status::invalid_argument, std::string(what) + " is not a live " + kind_name(kind) +
                                       " (already freed, or never created by voxinfer)");
}

vx_model* make_model_handle(std::shared_ptr<const Model> model) {
  require(model != nullptr, Status::internal, "loader returned no model");
  auto h = std::make_unique<vx_model>();
  h->metadata_json = model->metadata.is_null() ? std::string("{}") : model->metadata.dump();
  h->model = std::move(model);
  register_handle(h.get(), HandleKind::model);
  return h.release();
}

}  // namespace vx::capi
