// Grad-CAM reaches the backward kernels only through a kern::KernelTable (issue 21, part 3):
// every table this machine can run has every *_backward entry, and a table without one (the
// CUDA table: NULL means "not on this backend") is refused with a clear error naming the
// table and the entry, before anything runs. (The CUDA table itself: tests/cuda.)
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "case_loader.h"
#include "explain/backward.h"
#include "explain/gradcam.h"

using namespace vx;
using kern::KernelTable;

namespace {

// One way to lose each backward entry; kept beside kernel_table.h's list of them.
const std::vector<std::pair<std::string, std::function<void(KernelTable&)>>>& droppers() {
  static const std::vector<std::pair<std::string, std::function<void(KernelTable&)>>> d = {
      {"linear_backward", [](KernelTable& t) { t.linear_backward = nullptr; }},
      {"channel_affine_backward", [](KernelTable& t) { t.channel_affine_backward = nullptr; }},
      {"unary_backward", [](KernelTable& t) { t.unary_backward = nullptr; }},
      {"binary_backward", [](KernelTable& t) { t.binary_backward = nullptr; }},
      {"softmax_backward", [](KernelTable& t) { t.softmax_backward = nullptr; }},
      {"pool_backward", [](KernelTable& t) { t.pool_backward = nullptr; }},
      {"adaptive_pool_backward", [](KernelTable& t) { t.adaptive_pool_backward = nullptr; }},
      {"resize_backward", [](KernelTable& t) { t.resize_backward = nullptr; }},
      {"pad_backward", [](KernelTable& t) { t.pad_backward = nullptr; }},
      {"conv_backward", [](KernelTable& t) { t.conv_backward = nullptr; }},
      {"conv_transpose_backward", [](KernelTable& t) { t.conv_transpose_backward = nullptr; }},
      {"concat_backward", [](KernelTable& t) { t.concat_backward = nullptr; }},
      {"slice_backward", [](KernelTable& t) { t.slice_backward = nullptr; }},
      {"copy_backward", [](KernelTable& t) { t.copy_backward = nullptr; }},
  };
  return d;
}

std::vector<Tensor> inputs_of(const test::GradCase& c) {
  std::vector<Tensor> v;
  for (const auto& gi : c.model->graph->inputs) v.push_back(c.tensor(gi.name));
  return v;
}

}  // namespace

TEST_CASE("every kernel table this machine can run has every backward entry Grad-CAM needs") {
  for (const KernelTable* t : kern::kernel_tables()) {
    INFO("kernel table " << std::string(t->name));
    const char* missing = explain::missing_backward_kernel(*t);
    CHECK(std::string(missing ? missing : "(none missing)") == "(none missing)");
  }
  // The same in the reference table by direct reads, so the checker's own list cannot hide a gap.
  for (const auto& [name, drop] : droppers()) {
    KernelTable t = kern::ref_kernels();
    drop(t);
    INFO("dropped " << name);
    REQUIRE(explain::missing_backward_kernel(t) != nullptr);
    CHECK(std::string(explain::missing_backward_kernel(t)) == name);
  }
}

TEST_CASE("Grad-CAM on a table without backward kernels fails clearly, naming the table and the entry") {
  test::GradCase c = test::load_case("cam_resnet2d");
  const auto in = inputs_of(c);
  // A device table's shape: forward entries, no backward ones (kernels/cuda/context.cu).
  KernelTable device = kern::ref_kernels();
  device.name = "device-like";
  for (const auto& [name, drop] : droppers()) drop(device);
  bool threw = false;
  try {
    explain::grad_cam(*c.model, in, {}, device);
  } catch (const Error& e) {
    threw = true;
    CHECK(e.status() == Status::unsupported);
    const std::string what = e.what();
    CHECK(what.find("kernel table 'device-like'") != std::string::npos);
    CHECK(what.find("has no linear_backward") != std::string::npos);
  }
  CHECK(threw);
  // One entry missing from an otherwise complete table is named too.
  KernelTable one = kern::ref_kernels();
  one.conv_backward = nullptr;
  threw = false;
  try {
    explain::grad_cam(*c.model, in, {}, one);
  } catch (const Error& e) {
    threw = true;
    CHECK(std::string(e.what()).find("has no conv_backward") != std::string::npos);
  }
  CHECK(threw);
}
