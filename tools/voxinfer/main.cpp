// `voxinfer`: the command-line front end. Every failure ends with a message on stderr and
// a non-zero exit; outputs are written atomically by the commands.
#include <cstdio>
#include <cstring>
#include <string>

#include "args.h"
#include "commands.h"
#include "core/error.h"
#include "voxinfer/voxinfer.h"

namespace {

using vx::cli::CommandSpec;

struct Command {
  const char* name;
  int (*run)(int, char**);
  const CommandSpec* spec;  // its usage (nullptr: the command prints its own, see `help`)
  const char* help;         // for a command without a spec: its synopsis and summary
};

const Command kCommands[] = {
    {"exam", vx::cli::cmd_exam, &vx::cli::kExamSpec, nullptr},
    {"run", vx::cli::cmd_run, &vx::cli::kRunSpec, nullptr},
    {"segment", vx::cli::cmd_segment, &vx::cli::kSegmentSpec, nullptr},
    {"n4", vx::cli::cmd_n4, &vx::cli::kN4Spec, nullptr},
    {"preprocess", vx::cli::cmd_preprocess, &vx::cli::kPreprocessSpec, nullptr},
    {"cohort", vx::cli::cmd_cohort, nullptr,
     "--manifest M.csv --out DIR [--models DIR] [--scheduler ADDR | --workers 2] [--threads-per-worker 1]\n"
     "        many examinations on Dask (resumable), result table and validation report"},
    {"series", vx::cli::cmd_series, &vx::cli::kSeriesSpec, nullptr},
    {"dicom-seg", vx::cli::cmd_dicom_seg, &vx::cli::kDicomSegSpec, nullptr},
    {"info", vx::cli::cmd_info, &vx::cli::kInfoSpec, nullptr},
};

void usage(FILE* f) {
  std::fprintf(f, "voxinfer %s — medical-imaging inference engine\n\nusage: voxinfer COMMAND [options]\n\n", vx_version());
  for (const auto& c : kCommands) {
    if (!c.spec) {
      std::fprintf(f, "  voxinfer %s %s\n", c.name, c.help);
      continue;
    }
    const std::string summary = c.spec->summary;
    std::fprintf(f, "  voxinfer %s %s\n        %s\n", c.name, c.spec->synopsis, summary.substr(0, summary.find('\n')).c_str());
  }
  std::fprintf(f, "\n  voxinfer --version\n  voxinfer help [COMMAND]      (or voxinfer COMMAND --help): a command's options\n");
}

const Command* find_command(const char* name) {
  for (const auto& c : kCommands)
    if (!std::strcmp(name, c.name)) return &c;
  return nullptr;
}

int run_command(const Command& c, int argc, char** argv) {
  try {
    return c.run(argc, argv);
  } catch (const vx::cli::HelpShown&) {
    return 0;
  } catch (const vx::cli::UsageError& e) {
    std::fprintf(stderr, "voxinfer %s: error: %s\n\n%s", c.name, e.what(), e.usage.c_str());
    return 2;
  } catch (const vx::Error& e) {
    std::fprintf(stderr, "voxinfer %s: error: %s\n", c.name, e.what());
    return e.status() == vx::Status::invalid_argument ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "voxinfer %s: internal error: %s\n", c.name, e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      (!std::strcmp(argv[1], "help") && argc == 2)) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("%s\n", vx_version());
    return 0;
  }
  if (!std::strcmp(argv[1], "help")) {  // voxinfer help CMD == voxinfer CMD --help
    const Command* c = find_command(argv[2]);
    if (!c) {
      std::fprintf(stderr, "voxinfer: unknown command '%s'\n\n", argv[2]);
      usage(stderr);
      return 2;
    }
    char help[] = "--help";
    char* args[] = {argv[0], argv[2], help, nullptr};
    return run_command(*c, 3, args);
  }
  if (const Command* c = find_command(argv[1])) return run_command(*c, argc, argv);
  std::fprintf(stderr, "voxinfer: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
