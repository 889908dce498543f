// Prepared convolutions (KernelTable::prepare_conv) and the owner of their packed weights
// (WeightPacks): packing once per owner and problem form, shared between prepared objects
// whose primitives chose the same weights layout, separate when the form differs, freed with
// the owner, never stale for new weights under a new owner. Every fast table with a
// prepare_conv entry; results bit-identical to the table's one-shot entries (the same
// primitive on the same data) and within 1e-4 + 1e-4|ref| of the reference table.
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/float_compare.h"
#include "common/random_data.h"
#include "cpu/cpu_kernels.h"
#include "kernel_table.h"

using namespace vx::kern;

namespace {

std::vector<const KernelTable*> preparing_tables() {
  std::vector<const KernelTable*> t;
  for (const KernelTable* k : kernel_tables())
    if (k->prepare_conv) t.push_back(k);
  if (t.empty()) MESSAGE("SKIPPED: no kernel table with prepare_conv on this build");
  return t;
}

ConvParams conv16(int64_t ic = 16, int64_t oc = 16) {
  ConvParams p;
  p.ic = ic, p.oc = oc;
  for (int i = 0; i < 3; ++i) p.in[i] = p.out[i] = 8, p.k[i] = 3, p.pad[i] = 1;
  return p;
}

int64_t out_count(const ConvParams& p) { return p.n * p.oc * p.out[0] * p.out[1] * p.out[2]; }
int64_t in_count(const ConvParams& p) { return p.n * p.ic * p.in[0] * p.in[1] * p.in[2]; }
int64_t wei_count(const ConvParams& p) { return p.oc * p.ic / p.groups * p.k[0] * p.k[1] * p.k[2]; }

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  vx::test::expect_close(got, want, 1e-4, 1e-4, what);
}

using vx::test::same_bits;

std::vector<float> reference(const ConvParams& p, const std::vector<float>& src, const std::vector<float>& wei,
                             const float* bias) {
  std::vector<float> want(out_count(p));
  ref_kernels().conv(p, src.data(), wei.data(), bias, want.data());
  return want;
}

}  // namespace

TEST_CASE("prepared conv: packs once, runs many times, same bits as the one-shot entry") {
  const ConvParams p = conv16();
  const auto src = vx::test::uniform_floats(in_count(p), 1), wei = vx::test::uniform_floats(wei_count(p), 2);
  const auto bias = vx::test::uniform_floats(p.oc, 3);
  const auto want = reference(p, src, wei, bias.data());
  for (const KernelTable* t : preparing_tables()) {
    INFO(t->name);
    WeightPacks packs;
    auto conv = t->prepare_conv(p, ConvPostOps{}, false, wei.data(), bias.data(), &packs);
    const int64_t made = packs.packs_made();
    CHECK(made == 1);  // this problem's oneDNN primitive packs its weights
    std::vector<float> got(out_count(p)), once(out_count(p));
    for (int run = 0; run < 3; ++run) conv->run(src.data(), nullptr, got.data());
    CHECK(packs.packs_made() == made);  // runs pack nothing
    t->conv(p, src.data(), wei.data(), bias.data(), once.data());
    CHECK(same_bits(got, once));
    expect_close(got, want, "prepared vs reference");
  }
}

TEST_CASE("prepared conv: one owner shares packed weights when the form matches, not when it differs") {
  const ConvParams p = conv16();
  const auto src = vx::test::uniform_floats(in_count(p), 4), wei = vx::test::uniform_floats(wei_count(p), 5);
  const auto want = reference(p, src, wei, nullptr);
  for (const KernelTable* t : preparing_tables()) {
    INFO(t->name);
    WeightPacks packs;
    auto a = t->prepare_conv(p, ConvPostOps{}, false, wei.data(), nullptr, &packs);
    auto b = t->prepare_conv(p, ConvPostOps{}, false, wei.data(), nullptr, &packs);  // another session, same threads
    CHECK(packs.packs_made() == 1);
    CHECK(packs.size() == 1);
    // oneDNN forced onto the plain layout reads the weights as they are (another form: a
    // different key, not an alias of the blocked copy).
    cpu::set_conv_layout(cpu::ConvLayout::plain);
    auto c = t->prepare_conv(p, ConvPostOps{}, false, wei.data(), nullptr, &packs);
    cpu::set_conv_layout(cpu::ConvLayout::automatic);
    CHECK(packs.size() == 2);
    std::vector<float> ga(out_count(p)), gb(out_count(p)), gc(out_count(p));
    a->run(src.data(), nullptr, ga.data());
    b->run(src.data(), nullptr, gb.data());
    c->run(src.data(), nullptr, gc.data());
    CHECK(same_bits(ga, gb));
    expect_close(gc, want, "plain form");
  }
}

TEST_CASE("prepared conv: other thread counts share packed weights only through equal forms, results stay right") {
  const ConvParams p = conv16(32, 32);
  const auto src = vx::test::uniform_floats(in_count(p), 6), wei = vx::test::uniform_floats(wei_count(p), 7);
  const auto want = reference(p, src, wei, nullptr);
  const int saved = omp_get_max_threads();
  for (const KernelTable* t : preparing_tables()) {
    INFO(t->name);
    WeightPacks packs;
    std::vector<std::shared_ptr<const PreparedConv>> convs;
    for (int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      convs.push_back(t->prepare_conv(p, ConvPostOps{}, false, wei.data(), nullptr, &packs));
    }
    // One entry per distinct form oneDNN chose (the key is the form, not the thread count).
    CHECK(packs.size() >= 1);
    CHECK(packs.size() <= 3);
    CHECK(packs.packs_made() == static_cast<int64_t>(packs.size()));
    for (int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      std::vector<float> got(out_count(p));
      convs[threads - 1]->run(src.data(), nullptr, got.data());
      expect_close(got, want, "threads " + std::to_string(threads));
      convs[0]->run(src.data(), nullptr, got.data());  // made for 1 thread, run under another count
      expect_close(got, want, "1-thread primitive under " + std::to_string(threads));
    }
  }
  omp_set_num_threads(saved);
}

TEST_CASE("prepared conv: packed weights are freed with their owner and the prepared objects") {
  const ConvParams p = conv16();
  const auto wei = vx::test::uniform_floats(wei_count(p), 8);
  ConvParams up;  // a k2s2 transposed conv between blocked layers: the GEMM's rearranged weights
  up.ic = up.oc = 16;
  up.src_layout = up.dst_layout = Layout::blocked16;
  for (int i = 0; i < 3; ++i) up.in[i] = 4, up.k[i] = up.stride[i] = 2, up.out[i] = 8;
  const auto up_wei = vx::test::uniform_floats(16 * 16 * 8, 9);
  for (const KernelTable* t : preparing_tables()) {
    INFO(t->name);
    const int64_t before = packed_weights_alive();
    auto packs = std::make_unique<WeightPacks>();
    auto conv = t->prepare_conv(p, ConvPostOps{}, false, wei.data(), nullptr, packs.get());
    auto conv_t = t->prepare_conv(up, ConvPostOps{}, true, up_wei.data(), nullptr, packs.get());
    CHECK(packs->size() == 2);
    CHECK(packed_weights_alive() == before + 2);
    packs.reset();
    CHECK(packed_weights_alive() == before + 2);  // the prepared objects still hold them
    conv.reset();
    conv_t.reset();
    CHECK(packed_weights_alive() == before);
    // Without an owner the prepared object alone holds its packing.
    auto alone = t->prepare_conv(p, ConvPostOps{}, false, wei.data(), nullptr, nullptr);
    CHECK(packed_weights_alive() == before + 1);
    alone.reset();
    CHECK(packed_weights_alive() == before);
  }
}

TEST_CASE("prepared conv: new weights at the same address under a new owner are packed anew") {
  // The process-wide cache this replaces keyed weights by address plus a hash of their first
  // and last 64 values: a change in the middle at the same address gave stale results.
  const ConvParams p = conv16();
  const auto src = vx::test::uniform_floats(in_count(p), 10);
  auto wei = vx::test::uniform_floats(wei_count(p), 11);
  for (const KernelTable* t : preparing_tables()) {
    INFO(t->name);
    std::vector<float> got(out_count(p));
    {
      WeightPacks first;
      t->prepare_conv(p, ConvPostOps{}, false, wei.data(), nullptr, &first)->run(src.data(), nullptr, got.data());
    }
    wei[wei.size() / 2] += 5.f;  // same address, a value no first-and-last sample sees
    WeightPacks second;
    t->prepare_conv(p, ConvPostOps{}, false, wei.data(), nullptr, &second)->run(src.data(), nullptr, got.data());
    expect_close(got, reference(p, src, wei, nullptr), "after the weights changed");
    wei[wei.size() / 2] -= 5.f;
  }
}

TEST_CASE("prepared conv: sessions on several threads preparing from one owner pack once") {
  const ConvParams p = conv16();
  const auto src = vx::test::uniform_floats(in_count(p), 12), wei = vx::test::uniform_floats(wei_count(p), 13);
  const auto want = reference(p, src, wei, nullptr);
  for (const KernelTable* t : preparing_tables()) {
    INFO(t->name);
    WeightPacks packs;
    std::vector<std::vector<float>> got(4, std::vector<float>(out_count(p)));
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
      threads.emplace_back([&, i] {
        auto conv = t->prepare_conv(p, ConvPostOps{}, false, wei.data(), nullptr, &packs);
        for (int rep = 0; rep < 3; ++rep) conv->run(src.data(), nullptr, got[i].data());
      });
    for (auto& th : threads) th.join();
    // Threads started by std::thread have the default OpenMP thread count: one form.
    CHECK(packs.packs_made() == 1);
    for (int i = 0; i < 4; ++i) expect_close(got[i], want, "thread " + std::to_string(i));
  }
}
