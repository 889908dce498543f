// Conv + MaxPool run in slabs (lib/ops/conv_pool.h) against the pair run whole: the reference
// kernel's conv with ReLU, then its max pooling, on plain data.
// On the reference table the slabbed result is bit-identical (every output voxel sums the same
// terms in the same order, and max pooling sees the same window), so a slab boundary one plane
// off fails at once. Fast tables: |d| <= 1e-4 + 1e-4|ref| (oneDNN's summation order), in every
// layout pair they take (blocked16 moved by this test's own index formula).
// Slab sizes are forced small (1..4 pooled planes) so that first, middle and last slabs, gathered
// and scattered runs, pooling padding and ceil_mode windows all occur on small problems.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/layouts.h"
#include "common/random_data.h"
#include "kernel_table.h"
#include "ops/conv_pool.h"

using namespace vx;
using namespace vx::kern;

namespace {

std::vector<float> rnd(int64_t n, uint32_t seed) { return vx::test::uniform_floats(n, seed); }

using vx::test::to_layout;

int64_t spatial(const int64_t e[3]) { return e[0] * e[1] * e[2]; }

struct Case {
  const char* what;
  ConvParams conv;
  PoolParams pool;
};

using A = std::array<int64_t, 3>;

// Conv (kernel k, stride s, dilation d, begin padding `pad`, end padding `pad_end`), then max
// pooling (pk, ps, pp, pd) with ONNX/PyTorch's output-size rule (ceil_mode: the last window
// must start inside the input or the begin padding).
Case make(const char* what, int64_t n, int64_t ic, int64_t oc, A in, A k, A s, A d, A pad, A pad_end, A pk, A ps,
          A pp, A pd, bool ceil_mode) {
  Case c{what, {}, {}};
  c.conv.n = n, c.conv.ic = ic, c.conv.oc = oc;
  c.pool.n = n, c.pool.c = oc, c.pool.kind = PoolKind::max;
  for (int i = 0; i < 3; ++i) {
    c.conv.in[i] = in[i], c.conv.k[i] = k[i], c.conv.stride[i] = s[i], c.conv.dil[i] = d[i], c.conv.pad[i] = pad[i];
    c.conv.out[i] = (in[i] + pad[i] + pad_end[i] - (d[i] * (k[i] - 1) + 1)) / s[i] + 1;
    c.pool.in[i] = c.conv.out[i], c.pool.k[i] = pk[i], c.pool.stride[i] = ps[i], c.pool.pad[i] = pp[i];
    c.pool.dil[i] = pd[i];
    const int64_t span = pd[i] * (pk[i] - 1) + 1;
    c.pool.out[i] = (c.pool.in[i] + 2 * pp[i] - span + (ceil_mode ? ps[i] - 1 : 0)) / ps[i] + 1;
    if (ceil_mode && (c.pool.out[i] - 1) * ps[i] >= c.pool.in[i] + pp[i]) --c.pool.out[i];
  }
  return c;
}

std::vector<Case> cases() {
  const A one = {1, 1, 1};
  return {
      make("3-D stem k7 s2 p3, pool k3 s2 p1", 1, 1, 16, {19, 14, 12}, {7, 7, 7}, {2, 2, 2}, one, {3, 3, 3},
           {3, 3, 3}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, one, false),
      make("3-D batch 2, 32 channels in, pool k2 s2 (no shared planes)", 2, 32, 16, {13, 7, 6}, {3, 3, 3}, one, one,
           one, one, {2, 2, 2}, {2, 2, 2}, {0, 0, 0}, one, false),
      make("3-D pool dilation 2, ceil_mode, conv without end padding", 1, 3, 32, {21, 9, 8}, {3, 3, 3}, {2, 1, 1},
           one, {1, 0, 1}, {0, 0, 1}, {3, 2, 3}, {2, 2, 2}, {1, 0, 1}, {2, 1, 1}, true),
      make("3-D conv dilation 2, pool k5 s1 p2", 1, 16, 16, {14, 6, 5}, {3, 3, 3}, one, {2, 1, 1}, {2, 1, 1},
           {2, 1, 1}, {5, 3, 3}, one, {2, 1, 1}, one, false),
      make("2-D stem (slabs of rows), batch 2", 2, 1, 16, {1, 37, 20}, {1, 7, 7}, {1, 2, 2}, one, {0, 3, 3},
           {0, 3, 3}, {1, 3, 3}, {1, 2, 2}, {0, 1, 1}, one, false),
  };
}

}  // namespace

TEST_CASE("conv + max pool in slabs equals the whole pair, on every table and layout") {
  uint32_t seed = 900;
  int slabbed = 0;
  for (const Case& cs : cases()) {
    const ConvParams& c = cs.conv;
    const PoolParams& q = cs.pool;
    const auto src = rnd(c.n * c.ic * spatial(c.in), seed++);
    const auto wei = rnd(c.oc * c.ic * c.k[0] * c.k[1] * c.k[2], seed++), bias = rnd(c.oc, seed++);
    ConvPostOps post;
    post.act = Unary::relu;
    std::vector<float> conv_out(c.n * c.oc * spatial(c.out)), want(q.n * q.c * spatial(q.out));
    run_conv_fused(ref_kernels(), c, post, src.data(), wei.data(), bias.data(), nullptr, conv_out.data());
    ref_kernels().pool(q, conv_out.data(), want.data());

    for (const KernelTable* t : kernel_tables()) {
      const bool exact = t == &ref_kernels();
      for (Layout sl : {Layout::plain, Layout::blocked16})
        for (Layout dl : {Layout::plain, Layout::blocked16}) {
          if ((sl == Layout::blocked16 && (!t->reorder || c.ic % 16)) || (dl == Layout::blocked16 && (!t->reorder || c.oc % 16)))
            continue;
          for (int64_t per_slab : {1, 2, 4}) {
            ConvParams cl = c;
            cl.src_layout = sl, cl.dst_layout = dl;
            PoolParams ql = q;
            ql.layout = dl;
            ConvPoolLimits lim;
            lim.pooled_per_slab = per_slab;
            const ConvPoolPlan plan = plan_conv_pool(cl, ql, lim);
            const std::string what = std::string(t->name) + ", " + cs.what + ", " + (sl == Layout::plain ? "plain" : "blocked16") +
                                     " -> " + (dl == Layout::plain ? "plain" : "blocked16") + ", " +
                                     std::to_string(per_slab) + " pooled planes per slab";
            INFO(what);
            REQUIRE(plan.pooled_per_slab == per_slab);  // every case here slabs
            ++slabbed;
            // NaN scratch: a pooled value read from a plane the slab never computed shows.
            std::vector<float> scratch(c.n * plan.scratch_per_sample(), std::numeric_limits<float>::quiet_NaN());
            std::vector<float> got(want.size(), 123.f);
            run_conv_pool(*t, plan, cl, post, ql, to_layout(src, c.n, c.ic, spatial(c.in), sl).data(), wei.data(),
                          bias.data(), got.data(), scratch.data());
            const auto expect = to_layout(want, q.n, q.c, spatial(q.out), dl);
            if (exact) {
              CHECK(std::memcmp(got.data(), expect.data(), got.size() * sizeof(float)) == 0);
            } else {
              size_t bad = 0;
              for (size_t i = 0; i < got.size(); ++i)
                bad += !(std::fabs(got[i] - expect[i]) <= 1e-4 + 1e-4 * std::fabs(expect[i]));
              CHECK(bad == 0);
            }
          }
        }
    }
  }
  CHECK(slabbed >= 5 * 3);
}

TEST_CASE("slab plan: a ResNet stem is cut, small problems and windows in padding are not") {
  // The 3-D ResNet-18 stem at 64x128x128: conv 1 -> 64, k7 s2 p3, then max pool k3 s2 p1.
  const A one = {1, 1, 1};
  Case stem = make("stem", 1, 1, 64, {64, 128, 128}, {7, 7, 7}, {2, 2, 2}, one, {3, 3, 3}, {3, 3, 3}, {3, 3, 3},
                   {2, 2, 2}, one, one, false);
  stem.conv.dst_layout = stem.pool.layout = Layout::blocked16;
  const ConvPoolPlan p = plan_conv_pool(stem.conv, stem.pool);
  CHECK(p.axis == 0);
  // One shared plane per slab boundary: 4 pooled planes (9 conv planes for 8) keep it to 1/8.
  CHECK(p.pooled_per_slab == 4);
  CHECK(p.conv_floats == 64 * 9 * 64 * 64);
  CHECK(p.src_floats == 0);                       // one sample, one channel: a slab is one run
  CHECK(p.dst_floats == 64 * 4 * 32 * 32);        // four channel blocks: scattered
  CHECK(p.scratch_per_sample() * 4 < 64 * 32 * 64 * 64 * 4 / 3);  // well under the whole conv output

  Case small = make("small", 1, 1, 16, {16, 32, 32}, {3, 3, 3}, one, one, one, one, {2, 2, 2}, {2, 2, 2},
                    {0, 0, 0}, one, false);
  const ConvPoolPlan s = plan_conv_pool(small.conv, small.pool);  // 2 MB of conv output
  CHECK(s.pooled_per_slab == small.pool.out[0]);
  CHECK(s.conv_floats == 16 * 16 * 32 * 32);

  // Pooling padding as wide as the window: the first window lies wholly in padding. Such a
  // problem is never cut (the pair then runs whole, as unfused).
  Case pad = make("pad", 1, 1, 16, {8, 8, 8}, one, one, one, {0, 0, 0}, {0, 0, 0}, {2, 2, 2}, {2, 2, 2},
                  {2, 0, 0}, one, false);
  ConvPoolLimits single;
  single.pooled_per_slab = 1;
  CHECK(plan_conv_pool(pad.conv, pad.pool, single).pooled_per_slab == pad.pool.out[0]);
}
