"""The public header compiles as strict C99 and a C program using only it runs a model end to end."""
import json
import os
import subprocess

SRC = os.environ["VX_SOURCE_DIR"]
LIB = os.environ["VOXINFER_LIBRARY"]
FX = os.path.join(os.environ["VX_FIXTURE_DIR"], "capi")
FLAGS = ["-std=c99", "-pedantic", "-Werror", "-Wall", "-Wextra"]


def compile_c(tmp_path, source, link=True):
    exe = tmp_path / "prog"
    cmd = ["cc", *FLAGS, "-I", os.path.join(SRC, "include"), source, "-o", str(exe)]
    if link:
        libdir = os.path.dirname(LIB)
        cmd += [LIB, f"-Wl,-rpath,{libdir}", "-lm"]
    else:
        cmd += ["-c"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr}"
    return exe


def test_header_alone_is_strict_c99(tmp_path):
    src = tmp_path / "only_header.c"
    src.write_text('#include "voxinfer/voxinfer.h"\nint main(void) { return VX_OK; }\n')
    compile_c(tmp_path, str(src), link=False)


def test_c_program_runs_a_model_end_to_end(tmp_path):
    exe = compile_c(tmp_path, os.path.join(SRC, "tests", "capi", "c99_program.c"))
    with open(os.path.join(FX, "tiny3d.json")) as f:
        shape = json.load(f)["inputs"][0]
    r = subprocess.run([str(exe), os.path.join(FX, "tiny3d.vxm"), os.path.join(FX, "tiny3d_in0.f32"),
                        os.path.join(FX, "tiny3d_out0.f32"), *map(str, shape)], capture_output=True, text=True)
    print(r.stdout, r.stderr)
    assert r.returncode == 0, r.stderr
    assert "0 failure(s)" in r.stdout


def test_c_program_fails_on_a_wrong_reference(tmp_path):
    """The end-to-end check can fail: feed it a reference that is off by 1e-3."""
    import numpy as np
    wrong = tmp_path / "wrong.f32"
    (np.fromfile(os.path.join(FX, "tiny3d_out0.f32"), "<f4") + np.float32(1e-3)).tofile(str(wrong))
    exe = compile_c(tmp_path, os.path.join(SRC, "tests", "capi", "c99_program.c"))
    with open(os.path.join(FX, "tiny3d.json")) as f:
        shape = json.load(f)["inputs"][0]
    r = subprocess.run([str(exe), os.path.join(FX, "tiny3d.vxm"), os.path.join(FX, "tiny3d_in0.f32"),
                        str(wrong), *map(str, shape)], capture_output=True, text=True)
    assert r.returncode == 1, r.stderr


def test_an_ignored_status_warns_unless_turned_off(tmp_path):
    """VX_NODISCARD: ignoring a vx_status fails a -Werror build, in C and C++; defining
    VX_NO_WARN_UNUSED_RESULT before the header turns the warning off."""
    for lang, compiler, flags in (("c", "cc", FLAGS), ("cpp", "c++", ["-std=c++17", "-Werror", "-Wall"])):
        src = tmp_path / f"ignores.{lang}"
        src.write_text('#include "voxinfer/voxinfer.h"\nint main(void) { vx_model_free(NULL); return 0; }\n')
        cmd = [compiler, *flags, "-I", os.path.join(SRC, "include"), "-c", str(src), "-o", str(tmp_path / "o.o")]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode != 0 and "vx_model_free" in r.stderr, (lang, r.stderr)
        r = subprocess.run([*cmd, "-DVX_NO_WARN_UNUSED_RESULT"], capture_output=True, text=True)
        assert r.returncode == 0, (lang, r.stderr)
