#include "kernel_table.h"

namespace vx::kern {

std::vector<const KernelTable*> kernel_tables() {
  std::vector<const KernelTable*> t{&ref_kernels()};
  // Fast backends append their tables here when the CPU supports them.
  return t;
}

const KernelTable& default_kernels() { return *kernel_tables().back(); }

}  // namespace vx::kern
