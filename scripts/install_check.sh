#!/usr/bin/env bash
# Installs a built tree into a fresh temporary prefix and consumes it the ways a vendor would:
#   1. cmake --install BUILD --prefix P
#   2. examples/c and examples/cpp built standalone against P with find_package(voxinfer), and
#      again with plain compiler lines from pkg-config; all four run on a shipped model
#   3. pip install --target of bindings/python (offline, Debian's setuptools), then
#      examples/python/run_model.py with no VOXINFER_LIBRARY (the package finds P's library)
#   4. R CMD INSTALL of bindings/r against P (pkg-config), then examples/r/run_model.R
#   5. every output equal to the C example's (same library, same input; max |diff| <= 1e-5)
#   6. ldd: the engine library links no OpenCV, the application library does
#   7. P/bin/voxinfer COMMAND --help (every command), and a real `voxinfer exam` on the shipped sample examination
#      finding the installed models (no --models, no VOXINFER_MODELS); `voxinfer cohort --help`
#      finding the installed Python package
#   8. a .deb from CPack with those files and its Debian dependencies
# Usage: bash scripts/install_check.sh [BUILD_DIR (default build)]. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
BUILD=$(realpath "${1:-build}")
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/voxinfer-install-check.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
P=$WORK/prefix
step() { echo "--- install_check: $*"; }
die() { echo "install_check: FAILED: $*" >&2; exit 1; }
unset VOXINFER_LIBRARY VOXINFER_MODELS VOXINFER_PIPELINE_LIBRARY

step "cmake --install $BUILD --prefix $P"
cmake --install "$BUILD" --prefix "$P" >"$WORK/install.log"
LIBDIR=$(dirname "$(find "$P" -name libvoxinfer.so.0 -print -quit)")
[ -f "$LIBDIR/libvoxinfer.so.0" ] || die "no libvoxinfer.so.0 under $P"
for f in include/voxinfer/voxinfer.h bin/voxinfer share/voxinfer/models/demo_classifier.vxm \
         share/voxinfer/models/demo_classifier.md share/voxinfer/models/demo.pipeline.json; do
  [ -e "$P/$f" ] || die "$P/$f was not installed"
done
for f in libvoxinfer.so libvoxinfer_pipeline.so.0 cmake/voxinfer/voxinferConfig.cmake pkgconfig/voxinfer.pc \
         pkgconfig/voxinfer_pipeline.pc; do
  [ -e "$LIBDIR/$f" ] || die "$LIBDIR/$f was not installed"
done
soname=$(objdump -p "$LIBDIR/libvoxinfer.so" | awk '/SONAME/ {print $2}')
[ "$soname" = libvoxinfer.so.0 ] || die "SONAME is '$soname', not libvoxinfer.so.0"

step "ldd: the engine without OpenCV, the application layer with it"
engine_deps=$(ldd "$LIBDIR/libvoxinfer.so.0")
app_deps=$(ldd "$LIBDIR/libvoxinfer_pipeline.so.0")
if grep -i opencv <<<"$engine_deps"; then die "libvoxinfer.so links OpenCV"; fi
grep -q libopencv_imgcodecs <<<"$app_deps" || die "libvoxinfer_pipeline.so links no OpenCV"

# One shipped single-input model and a deterministic input volume.
MODEL=$P/share/voxinfer/models/demo_denoiser.vxm
SHAPE=(1 1 16 64 64)
$PY - "$WORK/in" <<'PYEOF'
import sys, numpy as np
x = np.random.default_rng(21).standard_normal((1, 1, 16, 64, 64)).astype(np.float32)
x.tofile(sys.argv[1] + ".f32"); np.save(sys.argv[1] + ".npy", x)
PYEOF

step "examples with find_package(voxinfer)"
cmake -S examples -B "$WORK/ex-cmake" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Release >"$WORK/ex-cmake.log"
cmake --build "$WORK/ex-cmake" -j "${JOBS:-2}" >>"$WORK/ex-cmake.log"
"$WORK/ex-cmake/run_model_c" "$MODEL" "$WORK/in.f32" "$WORK/out_cmake_c.f32" "${SHAPE[@]}"
"$WORK/ex-cmake/run_model_cpp" "$MODEL" "$WORK/in.f32" "$WORK/out_cmake_cpp.f32" "${SHAPE[@]}"

step "examples with pkg-config"
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
rpath=-Wl,-rpath,$(pkg-config --variable=libdir voxinfer)
# shellcheck disable=SC2046  # pkg-config's words are flags
cc -std=c99 -pedantic -Wall -Wextra -Werror examples/c/run_model.c -o "$WORK/run_model_c" \
  $(pkg-config --cflags --libs voxinfer) "$rpath"
# shellcheck disable=SC2046
c++ -std=c++17 -Wall -Wextra -Werror examples/cpp/run_model.cpp -o "$WORK/run_model_cpp" \
  $(pkg-config --cflags --libs voxinfer) "$rpath"
"$WORK/run_model_c" "$MODEL" "$WORK/in.f32" "$WORK/out_pc_c.f32" "${SHAPE[@]}"
"$WORK/run_model_cpp" "$MODEL" "$WORK/in.f32" "$WORK/out_pc_cpp.f32" "${SHAPE[@]}"

step "pip install --target of bindings/python, run_model.py with no VOXINFER_LIBRARY"
cp -r bindings/python "$WORK/python-src"  # pip builds in-tree: keep the source tree clean
$PY -m pip install -q --no-build-isolation --no-deps --no-index --target "$WORK/site" "$WORK/python-src"
env -u VOXINFER_LIBRARY PYTHONPATH="$WORK/site" $PY -c \
  "import voxinfer._capi as c; assert c.lib._name.startswith('$P'), c.lib._name; print('python loads', c.lib._name)"
(cd "$WORK" && env -u VOXINFER_LIBRARY PYTHONPATH="$WORK/site" PYTHONDONTWRITEBYTECODE=1 \
  $PY "$SRC/examples/python/run_model.py" "$MODEL" "$WORK/in.npy" "$WORK/out_py.npy")
# vx_exam_* of the installed engine load the installed application library beside it.
env -u VOXINFER_LIBRARY PYTHONPATH="$WORK/site" PYTHONDONTWRITEBYTECODE=1 $PY -c "import voxinfer
voxinfer.Exam('$P/share/voxinfer/models')
maps = open('/proc/self/maps').read()
assert '$LIBDIR/libvoxinfer_pipeline.so' in maps, 'the application library was not loaded from the prefix'
print('python: vx_exam_create loaded', '$LIBDIR/libvoxinfer_pipeline.so.0')"

step "R CMD INSTALL of bindings/r against the prefix, run_model.R"
mkdir -p "$WORK/rlib"
cp -r bindings/r "$WORK/r-src"  # R CMD INSTALL compiles in src/: keep the source tree clean
R CMD INSTALL --no-test-load -l "$WORK/rlib" "$WORK/r-src" >"$WORK/r-install.log" 2>&1 || { cat "$WORK/r-install.log"; die "R CMD INSTALL"; }
R_LIBS="$WORK/rlib" Rscript examples/r/run_model.R "$MODEL" "$WORK/in.f32" "$WORK/out_r.f32" "${SHAPE[@]}"

step "every consumer's output equals the C example's"
$PY - "$WORK" <<'PYEOF'
import sys, numpy as np
w = sys.argv[1]
ref = np.fromfile(f"{w}/out_cmake_c.f32", dtype=np.float32)
assert ref.size == 16 * 64 * 64 and np.isfinite(ref).all() and ref.std() > 0, "C output is empty or constant"
outs = {n: np.fromfile(f"{w}/{n}.f32", dtype=np.float32) for n in ("out_cmake_cpp", "out_pc_c", "out_pc_cpp", "out_r")}
outs["out_py"] = np.load(f"{w}/out_py.npy").ravel()
for name, o in outs.items():
    d = float(np.max(np.abs(o.astype(np.float64) - ref))) if o.size == ref.size else float("inf")
    print(f"  {name}: max |diff| to C = {d:.3g}")
    assert d <= 1e-5, f"{name} differs from the C example's output"
PYEOF

step "$P/bin/voxinfer COMMAND --help for every command, and a real examination with the installed models"
for cmd in exam run n4 preprocess info series; do
  "$P/bin/voxinfer" "$cmd" --help >"$WORK/help-$cmd.txt" 2>&1 || { cat "$WORK/help-$cmd.txt"; die "voxinfer $cmd --help did not exit 0"; }
  grep -q "^usage: voxinfer $cmd" "$WORK/help-$cmd.txt" || die "voxinfer $cmd --help printed no usage"
done
(cd "$WORK" && "$P/bin/voxinfer" exam --input "$SRC/examples/data/spine-cervical-sct/t1w.nii.gz" \
  --input "$SRC/examples/data/spine-cervical-sct/t2.nii.gz" --out "$WORK/exam" >"$WORK/exam.log" 2>&1) \
  || { cat "$WORK/exam.log"; die "voxinfer exam"; }
[ -s "$WORK/exam/report.json" ] || die "voxinfer exam wrote no report.json"
# `cohort` hands over to the Python package installed beside the CLI (share/voxinfer/python).
"$P/bin/voxinfer" cohort --help >"$WORK/cohort-help.txt" 2>&1 || { cat "$WORK/cohort-help.txt"; die "voxinfer cohort --help"; }
grep -q -- "--manifest" "$WORK/cohort-help.txt" || die "voxinfer cohort --help printed no usage"
step "a Debian package from CPack (cmake/Package.cmake)"
rm -rf "$BUILD/packages"
(cd "$BUILD" && cpack --config CPackConfig.cmake >"$WORK/cpack.log" 2>&1) || { cat "$WORK/cpack.log"; die "cpack"; }
deb=$(ls "$BUILD"/packages/voxinfer_*.deb)
contents=$(dpkg-deb -c "$deb")
for f in /usr/bin/voxinfer /libvoxinfer.so.0 /libvoxinfer_pipeline.so.0 /voxinfer/voxinfer.h /pkgconfig/voxinfer.pc \
         /cmake/voxinfer/voxinferConfig.cmake /usr/share/voxinfer/models/demo_classifier.vxm; do
  grep -q -- "$f" <<<"$contents" || die "$deb has no $f"
done
depends=$(dpkg-deb -f "$deb" Depends)
for d in libdnnl libgdcm libnifti2 libopencv-imgcodecs; do
  grep -q "$d" <<<"$depends" || die "$deb does not depend on $d: $depends"
done
echo "  $(basename "$deb"): $(wc -l <<<"$contents") entries; Depends: $depends"
step "passed"
