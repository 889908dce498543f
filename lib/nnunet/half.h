// IEEE binary16 conversions with round-to-nearest-even, in portable integer code: nnU-Net
// accumulates its sliding-window logits in torch.half, and reproducing its labels means rounding
// to float16 exactly where torch does (lib/nnunet/fp16_aggregator.h).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace vx::nnunet {

inline float half_bits_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal half: man * 2^-24, exact in float
    float f = float(man) * 5.9604644775390625e-08f;
    std::memcpy(&bits, &f, 4);
    bits |= sign;
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

inline uint16_t float_to_half_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return uint16_t(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));  // inf / NaN
  if (ax >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds past 65504: inf
  if (ax < 0x38800000u) {  // below the smallest normal half: subnormal or zero
    if (ax < 0x33000000u) return sign;  // below half of the smallest subnormal (ties to 0 included)
    const uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e;  // the value is m * 2^(e-150); half subnormal unit is 2^-24
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (q & 1u))) ++q;
    return uint16_t(sign | q);
  }
  uint32_t r = ax - 0x38000000u;  // rebias exponent 127 -> 15
  const uint32_t rem = r & 0x1fffu;
  r >>= 13;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;
  return uint16_t(sign | r);
}

// The float16 value nearest to f (ties to even), as a float.
inline float round_to_half(float f) { return half_bits_to_float(float_to_half_bits(f)); }

}  // namespace vx::nnunet

namespace vx::nnunet {

// The float16 nearest to a double (ties to even), rounded once as NumPy's astype(float16) does:
// round to float with round-to-odd (keeps the information a second rounding needs), then to half.
inline float round_double_to_half(double d) {
  float f = float(d);
  if (double(f) != d && f == f) {
    if (std::fabs(double(f)) > std::fabs(d)) f = std::nextafter(f, 0.0f);  // truncate toward zero
    uint32_t b;
    std::memcpy(&b, &f, 4);
    b |= 1u;  // inexact: make it odd
    std::memcpy(&f, &b, 4);
  }
  return round_to_half(f);
}

}  // namespace vx::nnunet
