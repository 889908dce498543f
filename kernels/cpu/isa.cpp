#include "cpu/isa.h"

#include <cpuid.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vx::kern::cpu {

namespace {

uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

Isa detect() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::scalar;
  const bool osxsave = c & bit_OSXSAVE, avx = c & bit_AVX, fma = c & bit_FMA;
  if (!osxsave || !avx) return Isa::scalar;
  const uint64_t xcr0 = xgetbv0();
  const bool ymm_saved = (xcr0 & 0x6) == 0x6;     // SSE + AVX state
  const bool zmm_saved = (xcr0 & 0xe6) == 0xe6;   // + opmask, ZMM_Hi256, Hi16_ZMM
  if (!ymm_saved || __get_cpuid_max(0, nullptr) < 7) return Isa::scalar;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = b & bit_AVX2, avx512f = b & bit_AVX512F;
  if (avx512f && avx2 && fma && zmm_saved) return Isa::avx512;
  if (avx2 && fma) return Isa::avx2;
  return Isa::scalar;
}

Isa cap_from_env(Isa found) {
  const char* env = std::getenv("VX_MAX_ISA");
  if (!env || !*env) return found;
  Isa cap;
  if (!std::strcmp(env, "scalar")) cap = Isa::scalar;
  else if (!std::strcmp(env, "avx2")) cap = Isa::avx2;
  else if (!std::strcmp(env, "avx512")) cap = Isa::avx512;
  else {
    std::fprintf(stderr, "voxinfer: ignoring unknown VX_MAX_ISA=%s (use scalar, avx2 or avx512)\n", env);
    return found;
  }
  return cap < found ? cap : found;
}

}  // namespace

Isa detected_isa() {
  static const Isa isa = detect();
  return isa;
}

Isa max_isa() {
  static const Isa isa = cap_from_env(detected_isa());
  return isa;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "?";
}

bool deterministic() {
  static const bool on = [] {
    const char* env = std::getenv("VX_DETERMINISTIC");
    return env && *env && std::strcmp(env, "0") != 0;
  }();
  return on;
}

}  // namespace vx::kern::cpu
