// The subcommands of `voxinfer`; each returns the process exit code and throws vx::Error
// on failure (main prints it on stderr and exits non-zero).
#pragma once

namespace vx::cli {

int cmd_info(int argc, char** argv);

}  // namespace vx::cli
