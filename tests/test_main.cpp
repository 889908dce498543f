// The main of every doctest executable: doctest's own run, then a run with no failure that
// skipped a check exits with vx::test::kSkipReturnCode (tests/common/skip.h), so CTest shows
// Skipped instead of Passed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "common/skip.h"

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int rc = context.run();
  if (rc != 0 || context.shouldExit()) return rc;
  return vx::test::exit_code_after_success();
}
