#include "ops/spatial.h"

#include "ops/backward_util.h"

namespace vx {

Spatial spatial_of(const Shape& s, const char* what) {
  if (s.rank != 4 && s.rank != 5)
    fail(Status::shape_mismatch, std::string(what) + " must be 4-D (N,C,H,W) or 5-D (N,C,D,H,W), got " + s.str());
  Spatial sp;
  sp.nd = s.rank - 2;
  sp.n = s[0];
  sp.c = s[1];
  const int off = 3 - sp.nd;
  for (int i = 0; i < sp.nd; ++i) sp.ext[off + i] = s[2 + i];
  return sp;
}

Shape spatial_shape(int nd, int64_t n, int64_t c, const int64_t ext[3]) {
  return nd == 3 ? Shape{n, c, ext[0], ext[1], ext[2]} : Shape{n, c, ext[1], ext[2]};
}

void spatial_attr(const Node& node, const std::string& name, int nd, int64_t def, int64_t fill, int64_t out[3]) {
  std::vector<int64_t> v = node.attrs.get_ints(name);
  if (v.empty()) v.assign(nd, def);
  if (static_cast<int>(v.size()) != nd)
    fail(Status::invalid_argument, "attribute '" + name + "' needs " + std::to_string(nd) + " values, has " +
                                       std::to_string(v.size()));
  const int off = 3 - nd;
  for (int i = 0; i < 3; ++i) out[i] = i < off ? fill : v[i - off];
}

void spatial_pads(const Node& node, int nd, int64_t begin[3], int64_t end[3], const std::string& prefix) {
  std::vector<int64_t> v = node.attrs.get_ints(prefix + "pads");
  if (v.empty()) v.assign(2 * nd, 0);
  if (static_cast<int>(v.size()) != 2 * nd)
    fail(Status::invalid_argument, "attribute '" + prefix + "pads' needs " + std::to_string(2 * nd) + " values, has " +
                                       std::to_string(v.size()));
  const int off = 3 - nd;
  for (int i = 0; i < 3; ++i) {
    begin[i] = i < off ? 0 : v[i - off];
    end[i] = i < off ? 0 : v[nd + i - off];
    if (begin[i] < 0 || end[i] < 0) fail(Status::invalid_argument, "attribute 'pads' must not be negative");
  }
}

kern::Layout layout_attr(const Node& node, const char* key, int64_t channels, const kern::KernelTable& kernels) {
  const int64_t v = node.attrs.get_int(key, 0);
  if (v == 0) return kern::Layout::plain;
  if (v != 1) fail(Status::invalid_argument, std::string("attribute ") + key + " must be 0 (plain) or 1 (blocked16)");
  if (!kernels.reorder) fail(Status::invalid_argument, std::string("kernels '") + kernels.name + "' have no blocked layout");
  if (channels % 16) fail(Status::invalid_argument, "a blocked layout needs channels in multiples of 16, not " + std::to_string(channels));
  return kern::Layout::blocked16;
}

kern::ConvParams conv_geometry(const Node& node, const Shape& x, const Shape& w, const Shape& y) {
  Spatial s = spatial_of(x, "input");
  Spatial so = spatial_of(y, "output");
  kern::ConvParams p;
  p.n = s.n;
  p.ic = s.c;
  p.oc = so.c;
  p.groups = node.attrs.get_int("group", 1);
  const int off = 3 - s.nd;
  for (int i = 0; i < 3; ++i) {
    p.in[i] = s.ext[i];
    p.out[i] = so.ext[i];
    p.k[i] = i < off ? 1 : w[2 + i - off];
  }
  spatial_attr(node, "strides", s.nd, 1, 1, p.stride);
  spatial_attr(node, "dilations", s.nd, 1, 1, p.dil);
  int64_t end[3];
  spatial_pads(node, s.nd, p.pad, end);
  return p;
}

}  // namespace vx
