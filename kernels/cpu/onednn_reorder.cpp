// Layout conversion of an [n, c, spatial] activation through oneDNN (the table's `reorder`).
#include <cstring>

#include "cpu/onednn_common.h"

namespace vx::kern::cpu {

void reorder_f32__onednn_blocked16(int64_t n, int64_t c, int64_t spatial, Layout from, Layout to, const float* src,
                                   float* dst) {
  using namespace onednn;
  if (from == to) {
    if (src != dst) std::memcpy(dst, src, static_cast<size_t>(n * c * spatial) * sizeof(float));
    return;
  }
  // [n][c/16][spatial][16] is nCw16c whatever the spatial rank: reorder as 1-D.
  const memory::dims d{n, c, spatial};
  auto md = [&](Layout l) { return memory::desc(d, dt::f32, l == Layout::blocked16 ? tag::nCw16c : tag::ncw); };
  dnnl::engine& eng = engine();
  dnnl::stream s(eng);
  memory a(md(from), eng, const_cast<float*>(src)), b(md(to), eng, dst);
  dnnl::reorder(a, b).execute(s, a, b);
  s.wait();
}

}  // namespace vx::kern::cpu
