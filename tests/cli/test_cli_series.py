"""`voxinfer series DIR --json` on a nested export of four series (gen_dicom_series_fixtures.py)
lists what pydicom's own grouping of the files gives (UID, number, description, modality, size,
orientation from the direction cosines); the listed path reads that series through the CLI
(`voxinfer n4`) and the Python binding; the folder alone is refused with the list. pydicom's own
DICOMDIR test export is listed as pydicom groups it (through its DICOMDIR), and
its real CT series with uneven slices (77654033/CT2) is refused."""
import json
import os
import pathlib
import subprocess

import nibabel as nib
import numpy as np
import pydicom

import voxinfer

CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")
MAN = json.load(open(os.path.join(os.environ["VX_FIXTURE_DIR"], "dicom_series", "manifest.json")))
EXAM = MAN["exam"]


def pydicom_groups():
    groups = {}
    for p in pathlib.Path(EXAM).rglob("*"):
        if p.is_file():
            try:
                ds = pydicom.dcmread(str(p), stop_before_pixels=True)
            except pydicom.errors.InvalidDicomError:
                continue
            groups.setdefault(ds.SeriesInstanceUID, []).append(ds)
    return groups


def plane(iop):
    n = np.cross(np.array(iop[:3], float), np.array(iop[3:], float))
    return ["sagittal", "coronal", "axial"][int(np.argmax(np.abs(n)))]


def test_series_json_matches_pydicom_grouping():
    p = subprocess.run([CLI, "series", EXAM, "--json"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    listed = {s["series_instance_uid"]: s for s in json.loads(p.stdout)["series"]}
    assert json.loads(p.stdout)["dicomdir"] is None  # no DICOMDIR: the folder was walked
    groups = pydicom_groups()
    assert set(listed) == set(groups)
    for uid, dss in groups.items():
        s, d = listed[uid], dss[0]
        assert s["series_number"] == str(d.SeriesNumber)
        assert s["series_description"] == d.SeriesDescription
        assert s["modality"] == d.Modality
        assert s["size"] == [d.Columns, d.Rows, len(dss)]
        assert s["files"] == len(dss)
        assert s["orientation"] == plane(d.ImageOrientationPatient)
        assert s["sequence_name"] == d.get("SequenceName", "")
        assert s["path"] == f"{EXAM}#series={uid}"
    stir = next(s for s in listed.values() if s["series_description"] == "stir_tra")
    assert stir["inversion_time_ms"] == 150 and "stir" in stir["hints"]


def test_listed_path_reads_the_series_in_n4_and_python(tmp_path):
    stir = next(s for s in MAN["series"] if s["description"] == "stir_tra")
    p = subprocess.run([CLI, "n4", "--input", EXAM, "--out", str(tmp_path / "x.nii.gz")], capture_output=True, text=True)
    assert p.returncode != 0 and "holds 4 DICOM series" in p.stderr and stir["uid"] in p.stderr
    p = subprocess.run([CLI, "n4", "--input", f"{EXAM}#series-number=5", "--out", str(tmp_path / "x.nii.gz"),
                        "--shrink", "2", "--iterations", "2", "--quiet"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert nib.load(tmp_path / "x.nii.gz").shape == tuple(stir["size"])
    v = voxinfer.read_volume(f"{EXAM}#series={stir['uid']}")
    ref = np.fromfile(stir["ref"], "<f4").reshape(stir["shape_dhw"]).transpose(2, 1, 0)
    np.testing.assert_array_equal(np.asarray(v.data), ref)


# pydicom's own DICOMDIR test export (python3-pydicom ships it): nested folders of real CT, CR
# and MR files under several DICOMDIR variants, one of them deliberately damaged.
PYDICOM_EXPORT = pathlib.Path(pydicom.data.get_testdata_file("DICOMDIR")).parent


def test_series_lists_pydicoms_dicomdir_export_as_pydicom_groups_it():
    p = subprocess.run([CLI, "series", str(PYDICOM_EXPORT), "--json"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    listed = {s["series_instance_uid"]: s["files"] for s in out["series"]}
    groups = {}
    for f in PYDICOM_EXPORT.rglob("*"):
        if f.is_file():
            try:
                ds = pydicom.dcmread(str(f), stop_before_pixels=True)
            except Exception:  # noqa: BLE001 - not DICOM, or too damaged for pydicom
                continue
            if "Rows" in ds and "SeriesInstanceUID" in ds:
                groups[ds.SeriesInstanceUID] = groups.get(ds.SeriesInstanceUID, 0) + 1
    assert listed == groups
    # Its DICOMDIR names the files (tests/cli/test_cli_dicomdir.py): the damaged variants beside it are not read.
    assert out["skipped"] == []
    assert out["dicomdir"] == str(PYDICOM_EXPORT / "DICOMDIR")


def test_pydicoms_uneven_ct_series_is_refused():
    ct2 = str(PYDICOM_EXPORT / "77654033" / "CT2")   # 4 slices, gaps 202.5 and 1.25 mm: 134 mm off a regular grid
    p = subprocess.run([CLI, "n4", "--input", ct2, "--out", "/nonexistent/x.nii.gz"], capture_output=True, text=True)
    assert p.returncode != 0 and "uneven DICOM slice positions" in p.stderr and "134.167 mm" in p.stderr
