"""`voxinfer series` on DICOMDIR exports lists what pydicom's FileSet reads from the DICOMDIR
(series UIDs and their files, number, description, modality): the export FileSet wrote from
series of the real data (gen_dicomdir_fixtures.py), the same with lower-cased names, and
pydicom's own dicomdirtests export. Each listed path reads, through the Python binding, the
voxels of that series' own folder read directly; a missing file is an error naming it; `exam --study` on
the export matches its inputs."""
import json
import os
import pathlib
import subprocess
import warnings

import numpy as np
import pydicom
from pydicom.fileset import FileSet

import voxinfer

CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")
MAN = json.load(open(os.path.join(os.environ["VX_FIXTURE_DIR"], "dicomdir", "manifest.json")))


def fileset(dicomdir):
    """SeriesInstanceUID -> (file count, first dataset), by pydicom's FileSet."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for inst in FileSet(pydicom.dcmread(str(dicomdir))):
            uid = str(inst.SeriesInstanceUID)
            n, ds = out.get(uid, (0, None))
            out[uid] = (n + 1, ds or pydicom.dcmread(inst.path))
    return out


def listing(path):
    p = subprocess.run([CLI, "series", str(path), "--json"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def check_same(listed, want):
    got = {s["series_instance_uid"]: s for s in listed["series"]}
    assert set(got) == set(want)
    for uid, (n, ds) in want.items():
        assert got[uid]["files"] == n
        assert got[uid]["series_number"] == str(ds.get("SeriesNumber", ""))
        assert got[uid]["series_description"] == str(ds.get("SeriesDescription", ""))
        assert got[uid]["modality"] == ds.Modality
    return got


def test_fileset_export_is_listed_and_each_series_reads_as_its_folder():
    want = fileset(pathlib.Path(MAN["export"]) / "DICOMDIR")
    for root, name in ((MAN["export"], "DICOMDIR"), (MAN["lower"], "dicomdir")):
        listed = listing(root)
        assert listed["dicomdir"] == f"{root}/{name}"
        got = check_same(listed, want)
        for s in MAN["series"]:
            direct = voxinfer.read_volume(s["direct"])
            v = voxinfer.read_volume(got[s["uid"]]["path"])
            np.testing.assert_array_equal(np.asarray(v.data), np.asarray(direct.data))
            np.testing.assert_array_equal(np.asarray(v.affine), np.asarray(direct.affine))
    # The DICOMDIR file itself is a path too.
    check_same(listing(pathlib.Path(MAN["export"]) / "DICOMDIR"), want)


def test_pydicoms_dicomdir_export_is_listed_as_fileset_reads_it():
    dicomdir = pathlib.Path(pydicom.data.get_testdata_file("DICOMDIR"))
    listed = listing(dicomdir.parent)
    check_same(listed, fileset(dicomdir))
    assert listed["skipped"] == []
    # TINY_ALPHA's DICOMDIR names 50 instances that have no pixel data: listed by FileSet, no image series.
    tiny = dicomdir.parent / "TINY_ALPHA"
    assert sum(n for n, _ in fileset(tiny / "DICOMDIR").values()) == 50
    assert not any("PixelData" in ds for _, ds in fileset(tiny / "DICOMDIR").values())
    p = subprocess.run([CLI, "series", str(tiny)], capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and "no readable DICOM image" in p.stderr


def test_missing_file_and_outside_record_are_refused():
    p = subprocess.run([CLI, "series", MAN["missing"]], capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and MAN["missing_id"] in p.stderr and "not in" in p.stderr
    p = subprocess.run([CLI, "series", MAN["outside"]], capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and "points outside its folder" in p.stderr


def test_exam_study_matches_inputs_in_a_dicomdir_export(tmp_path):
    """`voxinfer exam --study` on the FileSet export: the default rules pick the T1 and the STIR
    (by pydicom's headers: description t1_*, InversionTime 150 ms) among the three series."""
    by_desc = {s["description"]: s["uid"] for s in MAN["series"]}
    out = tmp_path / "out"
    p = subprocess.run([CLI, "exam", "--study", MAN["export"], "--out", str(out), "--no-png", "--no-gradcam", "--quiet"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    match = json.loads((out / "report.json").read_text())["input_match"]
    assert [m["series_instance_uid"] for m in match["inputs"]] == [by_desc["t1_fl2d_sag"], by_desc["stir_tra"]]
    assert [m["series_description"] for m in match["unused"]] == ["localizer"]
