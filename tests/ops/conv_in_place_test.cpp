// A convolution written over its own input (lib/ops/conv_in_place.h) against the same
// convolution into separate memory, with the reference kernel. Reference table: bit-identical
// (each output voxel sums the same terms in the same order), so a plane written back one slab
// too early (while a later slab still reads the input under it) fails at once. Fast tables:
// |d| <= 1e-4 + 1e-4|ref|, in plain and blocked16 (moved by the test's own index formula).
// Cases cover begin padding 0..2 (planes held back), dilation, fewer output than input
// channels, several channel blocks (gathered slabs) and 2-D (slabs of rows).
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/layouts.h"
#include "common/random_data.h"
#include "kernel_table.h"
#include "ops/conv_in_place.h"

using namespace vx;
using namespace vx::kern;
using vx::test::to_layout;

namespace {

using A = std::array<int64_t, 3>;

std::vector<float> rnd(int64_t n, uint32_t seed) { return vx::test::uniform_floats(n, seed); }

// Same extents in and out: pad_end = span - 1 - pad.
ConvParams make(int64_t ic, int64_t oc, A in, A k, A pad, A dil) {
  ConvParams p;
  p.ic = ic, p.oc = oc;
  for (int i = 0; i < 3; ++i) p.in[i] = p.out[i] = in[i], p.k[i] = k[i], p.pad[i] = pad[i], p.dil[i] = dil[i];
  return p;
}

}  // namespace

TEST_CASE("a convolution over its own input equals it into separate memory, on every table and layout") {
  const A one = {1, 1, 1};
  const std::vector<std::pair<ConvParams, const char*>> cases = {
      {make(16, 16, {21, 6, 5}, {3, 3, 3}, one, one), "k3 pad 1, one channel block"},
      {make(32, 16, {19, 5, 6}, {3, 3, 3}, one, one), "32 -> 16 channels (two blocks in, gathered)"},
      {make(48, 32, {23, 4, 5}, {5, 3, 3}, {2, 1, 1}, one), "k5 pad 2"},
      {make(16, 16, {17, 5, 4}, {3, 3, 3}, {2, 1, 1}, {2, 1, 1}), "dilation 2"},
      {make(32, 32, {9, 5, 5}, {3, 3, 3}, {0, 1, 1}, one), "no begin padding (pad_end 2)"},
      {make(32, 16, {12, 4, 4}, one, {0, 0, 0}, one), "pointwise"},
      {make(16, 16, {1, 33, 7}, {1, 3, 3}, {0, 1, 1}, one), "2-D"},
      {make(3, 2, {14, 4, 4}, {3, 3, 3}, one, one), "3 -> 2 channels, plain only"},
  };
  uint32_t seed = 77;
  int ran = 0;
  for (const auto& c : cases) {
    const ConvParams& p = c.first;
    REQUIRE(conv_in_place_applies(p));
    const int64_t sp = p.in[0] * p.in[1] * p.in[2];
    const auto src = rnd(p.ic * sp, seed++), wei = rnd(p.oc * p.ic * p.k[0] * p.k[1] * p.k[2], seed++);
    const auto bias = rnd(p.oc, seed++);
    ConvPostOps post;
    post.act = Unary::relu;
    std::vector<float> want(p.oc * sp);
    run_conv_fused(ref_kernels(), p, post, src.data(), wei.data(), bias.data(), nullptr, want.data());
    for (const KernelTable* t : kernel_tables())
      for (Layout l : {Layout::plain, Layout::blocked16}) {
        if (l == Layout::blocked16 && (!t->reorder || p.ic % 16 || p.oc % 16)) continue;
        ConvParams q = p;
        q.src_layout = q.dst_layout = l;
        std::vector<float> data = to_layout(src, 1, p.ic, sp, l);
        run_conv_in_place(*t, q, post, wei.data(), bias.data(), data.data());
        data.resize(static_cast<size_t>(p.oc * sp));  // the output is the first oc channels' bytes
        const auto expect = to_layout(want, 1, p.oc, sp, l);
        INFO(t->name << ", " << c.second << ", " << (l == Layout::plain ? "plain" : "blocked16"));
        ++ran;
        if (t == &ref_kernels()) {
          CHECK(std::memcmp(data.data(), expect.data(), expect.size() * sizeof(float)) == 0);
        } else {
          size_t bad = 0;
          for (size_t i = 0; i < expect.size(); ++i) bad += !(std::fabs(data[i] - expect[i]) <= 1e-4 + 1e-4 * std::fabs(expect[i]));
          CHECK(bad == 0);
        }
      }
  }
  CHECK(ran >= 8);
  // Conditions it refuses: two samples, stride 2, more output channels, mixed layouts.
  ConvParams two = make(16, 16, {5, 5, 5}, {3, 3, 3}, one, one);
  two.n = 2;
  CHECK_FALSE(conv_in_place_applies(two));
  ConvParams wider = make(16, 32, {5, 5, 5}, {3, 3, 3}, one, one);
  CHECK_FALSE(conv_in_place_applies(wider));
  ConvParams mixed = make(16, 16, {5, 5, 5}, {3, 3, 3}, one, one);
  mixed.dst_layout = Layout::blocked16;
  CHECK_FALSE(conv_in_place_applies(mixed));
  ConvParams strided = make(16, 16, {5, 5, 5}, {3, 3, 3}, one, one);
  strided.stride[0] = 2;
  CHECK_FALSE(conv_in_place_applies(strided));
}
