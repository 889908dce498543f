#pragma once
// A check that cannot run on this machine is reported as Skipped, never as Passed
// (tests/README.md, "Skips"). vx::test::skip(reason) prints "SKIPPED: <reason>" and records it;
// the test case then returns. When the run ends without a failure, tests/test_main.cpp exits
// with kSkipReturnCode, which tests/CMakeLists.txt declares as every test's SKIP_RETURN_CODE.
// A skip marks the whole executable, so a check that may be skipped lives in an executable (or
// a CTest entry) of its own, and what can always run stays Passed.
#include <cstdio>
#include <string>
#include <vector>

namespace vx::test {

constexpr int kSkipReturnCode = 77;  // the GNU/automake convention, also used by tests/cuda

inline std::vector<std::string>& skip_reasons() {
  static std::vector<std::string> reasons;
  return reasons;
}

inline void skip(const std::string& reason) {
  std::printf("SKIPPED: %s\n", reason.c_str());
  std::fflush(stdout);
  skip_reasons().push_back(reason);
}

// The exit code of a run that had no failure: 0, or kSkipReturnCode when something was skipped.
inline int exit_code_after_success() {
  if (skip_reasons().empty()) return 0;
  std::printf("%zu check(s) skipped on this machine; exiting %d so CTest reports Skipped:\n",
              skip_reasons().size(), kSkipReturnCode);
  for (const std::string& r : skip_reasons()) std::printf("  SKIPPED: %s\n", r.c_str());
  std::fflush(stdout);
  return kSkipReturnCode;
}

}  // namespace vx::test
