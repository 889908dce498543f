#!/usr/bin/env bash
# Installs every Debian package voxinfer builds, tests and benchmarks with.
# Idempotent: packages already present are skipped by apt. Needs root (or sudo).
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config git
  libeigen3-dev libdnnl-dev ocl-icd-opencl-dev libopencv-dev
  libnifti2-dev libniftiio-dev libznz-dev zlib1g-dev
  nlohmann-json3-dev doctest-dev libbenchmark-dev libgdcm-dev
  libcharls-dev libgdcm-tools  # JPEG-LS codec headers; gdcmconv makes compressed test series
  libopenjp2-7-dev libopenjp2-tools  # JPEG 2000 decoded with OpenJPEG directly; opj_decompress: a second decoder in tests
  dcmtk dcm2niix  # tests: dcmdump and dcm2niix read the DICOM-SEG / secondary captures voxinfer writes
  clang libclang-rt-14-dev libomp-14-dev
  python3 python3-pip python3-setuptools python3-wheel python3-numpy python3-torch python3-onnx python3-nibabel
  python3-scipy python3-pytest python3-pydicom python3-matplotlib python3-pandas python3-dask python3-distributed
  python3-torchvision  # tests/models: the real torchvision architectures
  python3-skimage  # tests/nnunet: nnU-Net resamples with skimage.transform.resize
  r-base-core r-cran-testthat
  libinsighttoolkit5-dev
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
