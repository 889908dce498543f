"""The engine apart from the application layer (issue 21): libvoxinfer.so links no OpenCV,
libvoxinfer_pipeline.so does and exports only its entry table; vx_exam_* in the engine load
the application library (and so OpenCV) only when an examination is used."""
import json
import os
import subprocess
import sys

BUILD = os.environ["VX_BUILD_DIR"]
ENGINE = os.path.join(BUILD, "libvoxinfer.so")
PIPELINE = os.path.join(BUILD, "libvoxinfer_pipeline.so")


def ldd(path):
    return subprocess.run(["ldd", path], check=True, capture_output=True, text=True).stdout


def dynamic_symbols(path):
    out = subprocess.run(["nm", "-D", "--defined-only", path], check=True, capture_output=True, text=True).stdout
    return sorted(line.split()[-1].split("@")[0] for line in out.splitlines() if " T " in line)


def test_engine_links_no_opencv():
    deps = ldd(ENGINE)
    assert "libdnnl" in deps and "libgdcm" in deps and "libnifti2" in deps, deps  # the engine's own
    assert "opencv" not in deps.lower(), "libvoxinfer.so links OpenCV:\n" + deps


def test_application_library_links_opencv():
    deps = ldd(PIPELINE)
    assert "libopencv_imgcodecs" in deps, "libvoxinfer_pipeline.so links no OpenCV:\n" + deps


def test_application_library_exports_only_its_entry_table():
    assert dynamic_symbols(PIPELINE) == ["vx_pipeline_entry_v1_get"]


# Run in a fresh interpreter: which libraries the process maps before and after vx_exam_*.
PROBE = r"""
import ctypes, json, sys
def mapped():
    return open("/proc/self/maps").read()
lib = ctypes.CDLL(sys.argv[1])
before = mapped()
exam = ctypes.c_void_p()
status = lib.vx_exam_create(sys.argv[2].encode(), ctypes.byref(exam))
lib.vx_last_error.restype = ctypes.c_char_p
error = lib.vx_last_error().decode()
after = mapped()
print(json.dumps({"before_opencv": "opencv" in before, "before_pipeline": "libvoxinfer_pipeline" in before,
                  "after_opencv": "opencv" in after, "after_pipeline": "libvoxinfer_pipeline" in after,
                  "status": status, "error": error}))
"""


def probe(tmp_path):
    p = subprocess.run([sys.executable, "-c", PROBE, ENGINE, str(tmp_path / "no-models-here")], check=True,
                       capture_output=True, text=True, env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
    return json.loads(p.stdout)


def test_exam_loads_the_application_library_on_first_use(tmp_path):
    r = probe(tmp_path)
    assert not r["before_opencv"] and not r["before_pipeline"], r
    assert r["after_pipeline"] and r["after_opencv"], r


def test_exam_error_message_crosses_from_the_application_library(tmp_path):
    r = probe(tmp_path)
    assert r["status"] == 3, r  # VX_ERR_IO: the folder has no demo_classifier.vxm
    assert "demo_classifier.vxm" in r["error"], r


def test_exam_without_the_application_library_says_so(tmp_path):
    # libvoxinfer.so alone in a folder (no rpath, not on the loader's path): vx_exam_* answer
    # VX_ERR_UNSUPPORTED naming the missing library, and the rest of the engine works.
    alone = tmp_path / "libvoxinfer.so.0"
    alone.write_bytes(open(os.path.realpath(ENGINE), "rb").read())
    code = r"""
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
lib.vx_last_error.restype = ctypes.c_char_p
lib.vx_version.restype = ctypes.c_char_p
exam = ctypes.c_void_p()
freed_null = lib.vx_exam_free(None)  # accepts NULL, with or without the application library
status = lib.vx_exam_create(b"/nonexistent", ctypes.byref(exam))
print(json.dumps({"status": status, "error": lib.vx_last_error().decode(), "version": lib.vx_version().decode(),
                  "freed_null": freed_null}))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "VOXINFER_PIPELINE_LIBRARY")}
    r = json.loads(subprocess.run([sys.executable, "-c", code, str(alone)], check=True, capture_output=True,
                                  text=True, env=env).stdout)
    assert r["status"] == 5, r  # VX_ERR_UNSUPPORTED
    assert "libvoxinfer_pipeline.so.0" in r["error"] and str(tmp_path) in r["error"], r
    assert r["version"].count(".") == 2, r
    assert r["freed_null"] == 0, r
