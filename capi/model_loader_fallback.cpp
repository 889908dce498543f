// TEMPORARY: weak stand-ins for vx::Model::load_file/load_memory until the loader (branch
// `model`, lib/model/) is merged; the real, strong definitions replace these at link time.
// Kept in a file of its own so a static link never pulls it in instead of the real loader.
// Delete this file when lib/model/ lands.
#include "model/model.h"

namespace vx {

__attribute__((weak)) std::shared_ptr<const Model> Model::load_file(const std::string&, const LoadOptions&) {
  fail(Status::unsupported, "this build has no .vxm loader yet (lib/model/ is not merged)");
}

__attribute__((weak)) std::shared_ptr<const Model> Model::load_memory(const void*, size_t, const LoadOptions&) {
  fail(Status::unsupported, "this build has no .vxm loader yet (lib/model/ is not merged)");
}

}  // namespace vx
