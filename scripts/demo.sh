#!/usr/bin/env bash
# Installs what is missing, builds the `voxinfer` command and runs the main job: the published
# two-sequence pipeline (denoise each sequence, dual-encoder classification, one Grad-CAM map
# per sequence, lesion segmentation) on the shipped sample examination with the shipped demo
# models. Outputs go to ./demo-output (NIfTI volumes a viewer overlays on the scans, PNG
# montages, report.json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DVX_BUILD_TESTS=OFF -DVX_BUILD_BENCH=OFF
cmake --build build -j "$(nproc)" --target voxinfer_cli
./build/bin/voxinfer exam \
  --input examples/data/spine-cervical-sct/t1w.nii.gz \
  --input examples/data/spine-cervical-sct/t2.nii.gz \
  --models weights --out demo-output "$@"
