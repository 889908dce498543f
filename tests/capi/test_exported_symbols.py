"""libvoxinfer.so exports exactly the vx_* functions listed in capi/exported_symbols.txt.
A new public function means a deliberate edit of that list; a leaked internal symbol fails."""
import os
import subprocess


def test_exported_symbols_match_the_committed_list():
    lib = os.environ["VOXINFER_LIBRARY"]
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True, text=True).stdout
    exported = sorted({line.split()[2].split("@")[0] for line in out.splitlines()
                       if len(line.split()) == 3 and line.split()[1] in "TDBRVWiu"})
    with open(os.path.join(os.environ["VX_SOURCE_DIR"], "capi", "exported_symbols.txt")) as f:
        listed = [s.strip() for s in f if s.strip()]
    assert listed == sorted(listed), "capi/exported_symbols.txt must be sorted"
    assert exported == listed, (f"exported but not listed: {sorted(set(exported) - set(listed))}; "
                                f"listed but not exported: {sorted(set(listed) - set(exported))}")
    assert all(s.startswith("vx_") for s in exported)


def test_every_listed_symbol_is_declared_in_the_header():
    src = os.environ["VX_SOURCE_DIR"]
    with open(os.path.join(src, "include", "voxinfer", "voxinfer.h")) as f:
        header = f.read()
    with open(os.path.join(src, "capi", "exported_symbols.txt")) as f:
        for s in f:
            assert f" {s.strip()}(" in header, f"{s.strip()} is exported but not declared in voxinfer.h"
