#!/usr/bin/python3
"""Writes the seed corpus of dicomdir_fuzz (tests/fuzz/corpus/dicomdir/): pydicom's own DICOMDIR
test files (explicit and implicit VR, big endian, offsets left out, records reordered, an unknown
record type, an empty one, TINY_ALPHA's). Run by hand; the output is committed.
Usage: /usr/bin/python3 tests/fuzz/make_dicomdir_seeds.py"""
import pathlib
import shutil

from pydicom.data import get_testdata_file

here = pathlib.Path(__file__).resolve().parent
out = here / "corpus" / "dicomdir"
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
tests = pathlib.Path(get_testdata_file("DICOMDIR")).parent
for p in sorted(tests.glob("DICOMDIR*")) + [tests / "TINY_ALPHA" / "DICOMDIR"]:
    name = "tiny_alpha" if p.parent.name == "TINY_ALPHA" else p.name.lower().replace(".dcm", "")
    shutil.copy(p, out / name)
print(sorted(x.name for x in out.iterdir()))
