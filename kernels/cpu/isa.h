// Which x86 vector ISA this process may use: detected once from CPUID + XGETBV (the OS
// must save the YMM/ZMM state, not just the CPU support it) and capped by the environment
// variable VX_MAX_ISA=scalar|avx2|avx512 (for tests and bug reports, as oneDNN's
// ONEDNN_MAX_CPU_ISA). Thread-safe; the answer never changes during a process.
#pragma once

namespace vx::kern::cpu {

// Ordered: a higher level implies every lower one.
enum class Isa { scalar = 0, avx2 = 1, avx512 = 2 };

// What the CPU and OS support, ignoring VX_MAX_ISA.
Isa detected_isa();
// detected_isa() capped by VX_MAX_ISA (an unknown value is ignored with a warning on stderr).
Isa max_isa();
const char* isa_name(Isa isa);

// VX_DETERMINISTIC=1: results must be bit-identical across thread counts (not only
// run-to-run at a fixed count). Kernels that would otherwise split a reduction by thread
// count run that reduction in a fixed order instead. Read once per process.
bool deterministic();

}  // namespace vx::kern::cpu
