// The subcommands of `voxinfer`; each returns the process exit code and throws vx::Error
// on failure (main prints it on stderr and exits non-zero).
#pragma once

namespace vx::cli {

int cmd_info(int argc, char** argv);
int cmd_exam(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_n4(int argc, char** argv);
int cmd_preprocess(int argc, char** argv);
int cmd_cohort(int argc, char** argv);
int cmd_series(int argc, char** argv);
int cmd_dicom_seg(int argc, char** argv);
int cmd_segment(int argc, char** argv);

// Applies --threads N (0 or absent: OpenMP's default).
class Args;
void set_threads(const Args& args);

// Each command's usage, defined beside its parser (cmd_NAME.cpp). `cohort` has none here: its
// parser, and so its --help, is the Python runner's.
struct CommandSpec;
extern const CommandSpec kInfoSpec, kExamSpec, kRunSpec, kN4Spec, kPreprocessSpec, kSeriesSpec, kDicomSegSpec,
    kSegmentSpec;

}  // namespace vx::cli
