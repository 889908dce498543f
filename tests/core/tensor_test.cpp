#include <doctest/doctest.h>

#include <cstdint>

#include "core/tensor.h"

using namespace vx;

TEST_CASE("tensor storage is 64-byte aligned and shapes are up to 5-D") {
  Tensor t = Tensor::zeros({2, 3, 4, 5, 6});
  CHECK(reinterpret_cast<uintptr_t>(t.raw()) % 64 == 0);
  CHECK(t.numel() == 720);
  CHECK(t.stride(0) == 360);
  CHECK(t.stride(4) == 1);
  CHECK(t.is_contiguous());
  CHECK(t.dtype() == DType::f32);
  CHECK(t.nbytes() == 720 * 4);
}

TEST_CASE("views share storage and never copy") {
  Tensor t = Tensor::empty({2, 3, 4});
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = float(i);
  Tensor r = t.reshape({6, 4});
  CHECK(r.raw() == t.raw());
  Tensor s = t.slice(1, 1, 2);  // [2, 2, 4], strided
  CHECK_FALSE(s.is_contiguous());
  CHECK(static_cast<const float*>(s.raw())[0] == 4.f);
  Tensor c = s.clone();
  CHECK(c.is_contiguous());
  CHECK(c.f32()[0] == 4.f);
  CHECK(c.f32()[4] == 8.f);   // batch 0, channel 2
  CHECK(c.f32()[8] == 16.f);  // batch 1, channel 1
  r.f32()[0] = 42.f;
  CHECK(t.f32()[0] == 42.f);
}

TEST_CASE("bad shapes are errors, not crashes") {
  CHECK_THROWS_AS(Tensor::empty({2, -1}), Error);
  Tensor t = Tensor::empty({2, 3});
  CHECK_THROWS_AS(t.reshape({5}), Error);
  CHECK_THROWS_AS(t.slice(1, 2, 2), Error);
  CHECK_THROWS_AS(t.slice(3, 0, 1), Error);
  Tensor u = Tensor::empty({2, 3}, DType::i32);
  CHECK_THROWS_AS(u.f32(), Error);
}
