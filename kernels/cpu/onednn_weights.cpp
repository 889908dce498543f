// Weights packed into the layout a oneDNN primitive chose, kept by the weights' owner
// (WeightPacks) and shared by every primitive that chose the same layout.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

#include "cpu/onednn_common.h"

namespace vx::kern::cpu::onednn {

namespace {

template <class T>
void put(std::string& s, const T& v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// The packed form: every field of the desc that places a value (not the raw struct, whose
// padding bytes are unspecified). A non-blocked form gets a key of its own (never shared).
std::string form_key(const memory::desc& md) {
  static std::atomic<uint64_t> unique{0};
  const dnnl_memory_desc_t& d = md.data;
  std::string k;
  put(k, d.ndims), put(k, d.data_type), put(k, d.format_kind), put(k, d.offset0), put(k, d.extra.flags);
  for (int i = 0; i < d.ndims; ++i) put(k, d.dims[i]), put(k, d.padded_dims[i]), put(k, d.padded_offsets[i]);
  if (d.format_kind != dnnl_blocked) {
    put(k, unique.fetch_add(1));
    return k;
  }
  const dnnl_blocking_desc_t& b = d.format_desc.blocking;
  for (int i = 0; i < d.ndims; ++i) put(k, b.strides[i]);
  put(k, b.inner_nblks);
  for (int i = 0; i < b.inner_nblks; ++i) put(k, b.inner_blks[i]), put(k, b.inner_idxs[i]);
  return k;
}

// Gives the whole pages of [p, p + bytes) back to the OS when they lie in the owner's file
// mapping: they are clean file pages, so a later read brings the same bytes back from the file.
void release_file_pages(const WeightPacks* packs, const void* p, size_t bytes) {
  if (!packs || !packs->in_file(p, bytes)) return;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t b = reinterpret_cast<uintptr_t>(p);
  const uintptr_t lo = (b + page - 1) / page * page, hi = (b + bytes) / page * page;
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

// Copies the plain weights `from` (at `ptr`) into the primitive's format `to`. When they lie
// in a model file, slices of output channels go one at a time, each slice's plain pages given
// back as soon as it is copied, so plain and packed weights are never both resident (the
// packed buffer's pages only become resident as they are written).
void reorder_weights(const memory& from, const memory& to, const float* ptr, const WeightPacks* packs) {
  dnnl::stream s(engine());
  const memory::desc fd = from.get_desc(), td = to.get_desc();
  const memory::dims dims = fd.dims();
  int64_t ob = 1;  // the block of output channels in `to`
  for (int i = 0; i < td.data.format_desc.blocking.inner_nblks; ++i)
    if (td.data.format_desc.blocking.inner_idxs[i] == 0) ob *= td.data.format_desc.blocking.inner_blks[i];
  bool padded = false;
  for (int i = 0; i < td.data.ndims; ++i) padded = padded || td.data.padded_dims[i] != td.data.dims[i];
  const int64_t per_o = dims[0] ? static_cast<int64_t>(fd.get_size() / sizeof(float)) / dims[0] : 0;
  if (!packs || !packs->in_file(ptr) || padded || td.data.format_kind != dnnl_blocked || dims[0] % ob != 0) {
    dnnl::reorder(from, to).execute(s, const_cast<memory&>(from), const_cast<memory&>(to));
    s.wait();
    release_file_pages(packs, ptr, fd.get_size());
    return;
  }
  const int64_t chunk = std::max<int64_t>(ob, (dims[0] / 8 + ob - 1) / ob * ob);
  for (int64_t o0 = 0; o0 < dims[0]; o0 += chunk) {
    memory::dims sd = dims, off(dims.size(), 0);
    sd[0] = std::min(chunk, dims[0] - o0);
    off[0] = o0;
    memory fm(fd.submemory_desc(sd, off), from.get_engine(), from.get_data_handle());
    memory tm(td.submemory_desc(sd, off), to.get_engine(), to.get_data_handle());
    dnnl::reorder(fm, tm).execute(s, fm, tm);
    s.wait();
    release_file_pages(packs, ptr + o0 * per_o, static_cast<size_t>(sd[0] * per_o) * sizeof(float));
  }
}

std::shared_ptr<const OnednnWeights> make(const memory::desc& user_md, const memory::desc& packed_md, const float* wei,
                                          const float* bias, int64_t oc, const WeightPacks* packs) {
  auto w = std::make_shared<OnednnWeights>();
  if (bias && packs && packs->in_file(bias, static_cast<size_t>(oc) * sizeof(float))) w->bias.assign(bias, bias + oc);
  memory user(user_md, engine(), const_cast<float*>(wei));
  if (packed_md == user_md) {
    w->wei = user;  // the primitive reads the caller's weights as they are: no copy
  } else {
    w->wei = memory(packed_md, engine());
    reorder_weights(user, w->wei, wei, packs);
  }
  return w;
}

}  // namespace

std::shared_ptr<const OnednnWeights> pack_weights(const memory::desc& user_md, const memory::desc& packed_md,
                                                  const float* wei, const float* bias, int64_t oc, WeightPacks* packs) {
  if (!packs) return make(user_md, packed_md, wei, bias, oc, nullptr);
  std::string key = "onednn";
  put(key, wei), put(key, bias);
  key += form_key(user_md);
  key += form_key(packed_md);
  auto w = packs->get(key, [&]() -> std::shared_ptr<const PackedWeights> {
    return make(user_md, packed_md, wei, bias, oc, packs);
  });
  return std::static_pointer_cast<const OnednnWeights>(w);
}

}  // namespace vx::kern::cpu::onednn
