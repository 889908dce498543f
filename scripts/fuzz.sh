#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/*_fuzz.cpp) in BUILD_DIR (configured with clang
# and -DVX_FUZZ=ON) and runs each for SECONDS on a copy of its seed corpus
# (tests/fuzz/corpus/NAME/), after replaying the crash regressions (tests/fuzz/regressions/NAME/).
# Usage: bash scripts/fuzz.sh BUILD_DIR [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:?build dir}
SECONDS_EACH=${2:-60}
targets=$(ls tests/fuzz/*_fuzz.cpp | xargs -n1 basename | sed 's/\.cpp$//')
cmake --build "$BUILD" -j "${JOBS:-$(nproc)}" --target $targets
for t in $targets; do
  name=${t%_fuzz}
  bin=$(find "$BUILD" -type f -name "$t" -perm -u+x | head -1)
  work=$(mktemp -d)
  [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
  if [ -d "tests/fuzz/regressions/$name" ] && ls "tests/fuzz/regressions/$name"/* >/dev/null 2>&1; then
    echo "-- $t: replaying regressions"
    "$bin" "tests/fuzz/regressions/$name"/*
  fi
  echo "-- $t: fuzzing for ${SECONDS_EACH}s"
  "$bin" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$work/crash-" "$work" 2>&1 | grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|ERROR|crash-|Done" || true
  if ls "$work"/crash-* >/dev/null 2>&1; then
    echo "fuzz target $t found a crashing input: $(ls "$work"/crash-*)"; exit 1
  fi
  rm -rf "$work"
done
