#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test:
#   1. Release build: every C++, Python and R test through CTest (PyTorch fixtures generated first).
#   2. Install: the release build installed into a fresh temporary prefix and consumed from
#      there: examples through find_package and pkg-config, pip and R installs (scripts/install_check.sh).
#   3. AddressSanitizer + UndefinedBehaviorSanitizer build: the C++ tests again.
#   4. ThreadSanitizer build: the concurrency tests (tests/*/*concurren*_test.cpp).
#   5. libFuzzer (clang) build: each fuzz target (tests/fuzz/*_fuzz.cpp, one per core) for VX_FUZZ_SECONDS
#      (default 60), after replaying its crash regressions.
# Every stage prints its wall time. Usage: bash scripts/test.sh
# Stages can be skipped: VX_SKIP="install asan tsan fuzz".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
JOBS=${JOBS:-$(nproc)}
# Tests run two at a time on small machines: OpenMP workers that spin while waiting would
# steal the other test's cores (measured: up to 30x slower). Hosts of the library decide this
# for themselves; see capi/session_capi.cpp.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
SKIP=${VX_SKIP:-}
# Sanitizer and fuzz builds: line tables are all their reports need; full debug info (-g)
# costs minutes of compile time on two cores.
SAN_FLAGS=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
           "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
FUZZ_SECONDS=${VX_FUZZ_SECONDS:-60}
T0=$SECONDS
STAGE=""
stage() {  # prints the wall time of the stage that ends, then starts the next
  [ -z "$STAGE" ] || echo "--- $STAGE: $((SECONDS - TSTAGE)) s"
  STAGE=$*
  TSTAGE=$SECONDS
  echo; echo "=== $* ==="
}
skipped() { [[ " $SKIP " == *" $1 "* ]]; }

stage "release build and full test suite"
cmake -S . -B build-tests -DCMAKE_BUILD_TYPE=Release -DVX_BUILD_TESTS=ON -DVX_BUILD_BENCH=ON
cmake --build build-tests -j "$JOBS"
ctest --test-dir build-tests --output-on-failure -j "$JOBS"
FIXTURES=$(pwd)/build-tests/fixtures

if ! skipped install; then
  stage "install: a fresh prefix, consumed through find_package, pkg-config, pip and R"
  bash scripts/install_check.sh build-tests
fi

if ! skipped asan; then
  stage "ASan + UBSan: C++ tests"
  # VX_CUDA=OFF: the CUDA module is device code that ASan does not see; stage 1 builds it, and
  # compiling it again here only adds minutes of nvcc.
  cmake -S . -B build-asan "${SAN_FLAGS[@]}" -DVX_SANITIZE=address,undefined \
    -DVX_BUILD_BENCH=OFF -DVX_CUDA=OFF -DVX_FIXTURE_DIR="$FIXTURES"
  cmake --build build-asan -j "$JOBS"
  # Python/R tests load the library into an uninstrumented interpreter: they ran in stage 1.
  # Fixtures were generated in stage 1 (-FA skips regenerating them).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$JOBS" -FA torch_fixtures -E '^(py|r)\.'
fi

if ! skipped tsan && ls tests/*/*concurren*_test.cpp >/dev/null 2>&1; then
  stage "TSan: concurrency tests"
  cmake -S . -B build-tsan "${SAN_FLAGS[@]}" -DVX_SANITIZE=thread \
    -DVX_BUILD_BENCH=OFF -DVX_FIXTURE_DIR="$FIXTURES"
  targets=$(cd tests && ls */*concurren*_test.cpp | sed 's|/|.|; s|\.cpp$||')
  cmake --build build-tsan -j "$JOBS" --target $targets
  # tests/tsan.supp, if present, may only list false positives of uninstrumented libraries
  # (libgomp, oneDNN); none are needed today: sessions run with one OpenMP thread each.
  supp=""; [ -f tests/tsan.supp ] && supp=" suppressions=$(pwd)/tests/tsan.supp"
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1$supp" OMP_NUM_THREADS=1 \
    ctest --test-dir build-tsan --output-on-failure -FA torch_fixtures -R 'concurren'
fi

if ! skipped fuzz && [ -d tests/fuzz ]; then
  stage "libFuzzer: ${FUZZ_SECONDS}s per target"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz "${SAN_FLAGS[@]}" -DVX_FUZZ=ON \
    -DVX_BUILD_TESTS=ON -DVX_BUILD_BENCH=OFF -DVX_FIXTURE_DIR="$FIXTURES"
  bash scripts/fuzz.sh build-fuzz "$FUZZ_SECONDS"
fi
stage "all test stages passed in $((SECONDS - T0)) s"
