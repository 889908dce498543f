"""The include graph keeps to the layers (issue 21): each file of kernels/, lib/, capi/,
include/ and tools/ includes only files of the layers its layer may use. The build's PRIVATE
include paths (cmake/Libraries.cmake) stop most breaks; this catches the rest (lib/ reaching
kernels/cpu or kernels/ref through the kernel table's include path, an engine file including
the application layer), file by file, with the offending line."""
import os
import re

SRC = os.environ["VX_SOURCE_DIR"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
EXTENSIONS = (".h", ".hpp", ".c", ".cpp", ".cu", ".cuh")
ROOTS = ["", "include", "lib", "kernels"]  # the quoted-include search path after the file's own folder

# Layer -> the layers its files may include (a layer always includes itself).
MAY_INCLUDE = {
    "public": set(),                                               # include/voxinfer
    "kernel_api": set(),                                           # kernels/*.h, kernels/cuda/cuda_api.h
    "kernels": {"kernel_api"},                                     # kernels/**
    "engine": {"kernel_api"},                                      # lib/** but lib/pipeline
    "capi": {"engine", "kernel_api", "public"},                    # capi/** but the examination's files
    "app": {"capi", "engine", "kernel_api", "public"},             # lib/pipeline, capi/exam_capi.cpp ...
    "cli": {"app", "engine", "kernel_api", "public"},              # tools/**
}

# Known breaks, each with why it is allowed and until when (delete an entry with its include).
# None today: the last two (the global conv cache's call and Grad-CAM's direct use of the
# reference backward kernels) went with the owned weight packs and the table's backward entries.
ALLOWED = set()


def layer_of(rel):
    if rel.startswith("include/"):
        return "public"
    if rel.startswith("kernels/"):
        return "kernel_api" if rel.count("/") == 1 and rel.endswith(".h") or rel == "kernels/cuda/cuda_api.h" \
            else "kernels"
    if rel.startswith("lib/pipeline/") or rel in ("capi/exam_capi.cpp", "capi/pipeline_entry.cpp"):
        return "app"
    if rel.startswith("lib/"):
        return "engine"
    if rel.startswith("capi/"):
        return "capi"
    if rel.startswith("tools/"):
        return "cli"
    return None


def resolve(src, rel, name):
    for base in [os.path.dirname(rel)] + ROOTS:
        cand = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(os.path.join(src, cand)):
            return cand
    return None


def violations(src, rel, text):
    """(line, why) for each include of `text` (the file `rel`) that breaks the layers."""
    out = []
    mine = layer_of(rel)
    for m in INCLUDE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        target = resolve(src, rel, m.group(1))
        if target is None:
            out.append((line, f'"{m.group(1)}" does not resolve to a file of the tree'))
            continue
        theirs = layer_of(target)
        if theirs != mine and theirs not in MAY_INCLUDE[mine] and (rel, target) not in ALLOWED:
            out.append((line, f"{mine} file includes {target} ({theirs} layer)"))
    return out


def layered_files(src):
    for top in ("include", "kernels", "lib", "capi", "tools"):
        for root, _, files in os.walk(os.path.join(src, top)):
            for f in sorted(files):
                if f.endswith(EXTENSIONS):
                    yield os.path.relpath(os.path.join(root, f), src)


def test_every_include_keeps_to_the_layers():
    bad = []
    for rel in layered_files(SRC):
        with open(os.path.join(SRC, rel), encoding="utf-8") as f:
            bad += [f"{rel}:{line}: {why}" for line, why in violations(SRC, rel, f.read())]
    assert not bad, "include graph breaks the layers:\n  " + "\n  ".join(bad)


def test_the_checker_catches_breaks():
    assert violations(SRC, "lib/core/x.cpp", '#include "pipeline/exam.h"\n')  # engine -> app
    assert violations(SRC, "lib/ops/x.cpp", '#include "cpu/isa.h"\n')  # engine -> kernels/cpu
    assert violations(SRC, "kernels/x.cpp", '#include "core/tensor.h"\n')  # kernels -> engine
    assert violations(SRC, "capi/x.cpp", '#include "pipeline/exam.h"\n')  # engine's C API -> app
    assert violations(SRC, "lib/core/x.cpp", '#include "no/such.h"\n')  # unresolved
    assert not violations(SRC, "lib/ops/x.cpp", '#include "kernel_table.h"\n#include "core/tensor.h"\n')
