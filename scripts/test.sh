#!/usr/bin/env bash
# Installs what is missing, builds voxinfer with its tests, and runs every test through CTest.
# Usage: bash scripts/test.sh        (BUILD_DIR=build-tests by default)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-tests}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DVX_BUILD_TESTS=ON -DVX_BUILD_BENCH=ON
cmake --build "$BUILD_DIR" -j "$JOBS"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS"
