"""`voxinfer exam --study DIR`: the T1 and the STIR are chosen from one DICOM folder by the
classifier's rules (lib/pipeline/input_match.h) and the choice is written in report.json.
The folders are subsets of the nested four-series export of gen_dicom_series_fixtures.py; which
series is the T1 and which the STIR is decided here from pydicom's reading of the headers
(SeriesDescription, ScanningSequence, InversionTime, ImageType), not from our listing. A folder
where a rule matches two series (a T1 and its copy) or none is refused, listing the series, and
leaves no output folder."""
import json
import os
import pathlib
import shutil
import subprocess

import pydicom
import pytest

CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")
EXAM = pathlib.Path(json.load(open(os.path.join(os.environ["VX_FIXTURE_DIR"], "dicom_series", "manifest.json")))["exam"])


def headers():
    """SeriesInstanceUID -> (files, first dataset), by pydicom."""
    groups = {}
    for p in sorted(EXAM.rglob("*")):
        if not p.is_file():
            continue
        try:
            ds = pydicom.dcmread(str(p), stop_before_pixels=True)
        except pydicom.errors.InvalidDicomError:
            continue
        groups.setdefault(ds.SeriesInstanceUID, ([], ds))[0].append(p)
    return groups


def is_t1(ds):
    ir = "IR" in str(ds.get("ScanningSequence", "")) or "InversionTime" in ds
    return "t1" in str(ds.SeriesDescription).lower() and not ir and "LOCALIZER" not in list(ds.ImageType)


def is_stir(ds):
    return "InversionTime" in ds and 0 < float(ds.InversionTime) < 300


def study(tmp_path, keep):
    """A copy of the export holding only the series for which keep(ds) is true."""
    dst = tmp_path / "study"
    for uid, (files, ds) in headers().items():
        if keep(ds):
            for f in files:
                target = dst / f.relative_to(EXAM)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(f, target)
    return dst


def exam(*args):
    return subprocess.run([CLI, "exam", *args, "--no-png", "--no-gradcam", "--quiet"], capture_output=True, text=True,
                          timeout=600)


def test_study_inputs_are_matched_by_rule_and_reported(tmp_path):
    groups = headers()
    t1 = [uid for uid, (_, ds) in groups.items() if is_t1(ds) and "copy" not in str(ds.SeriesDescription)]
    stir = [uid for uid, (_, ds) in groups.items() if is_stir(ds)]
    assert len(t1) == 1 and len(stir) == 1
    # The localiser (an inversion-recovery MPRAGE) stays in the folder as a distractor.
    folder = study(tmp_path, lambda ds: ds.SeriesInstanceUID in t1 + stir or "LOCALIZER" in list(ds.ImageType))
    out = tmp_path / "out"
    p = exam("--study", str(folder), "--out", str(out))
    assert p.returncode == 0, p.stderr
    report = json.loads((out / "report.json").read_text())
    match = report["input_match"]
    assert match["study"] == str(folder)
    assert [m["sequence"] for m in match["inputs"]] == ["T1", "STIR"]
    assert [m["series_instance_uid"] for m in match["inputs"]] == [t1[0], stir[0]]
    assert [m["path"] for m in match["inputs"]] == [f"{folder}#series={t1[0]}", f"{folder}#series={stir[0]}"]
    assert all("rule" in m for m in match["inputs"])
    assert len(match["unused"]) == 1 and match["unused"][0]["series_description"] == "localizer"
    # The examination ran on exactly those series.
    assert [i["path"] for i in report["inputs"]] == [m["path"] for m in match["inputs"]]
    assert "t1_fl2d_sag" in p.stdout and "stir_tra" in p.stdout  # the text report names the match


def test_a_rule_matching_two_series_is_refused_with_them_listed(tmp_path):
    out = tmp_path / "out"
    p = exam("--study", str(EXAM), "--out", str(out))
    assert p.returncode != 0
    assert "2 series" in p.stderr and "input 'T1'" in p.stderr
    for uid, (_, ds) in headers().items():
        if is_t1(ds):
            assert uid in p.stderr and str(ds.SeriesDescription) in p.stderr
    assert "#series=UID" in p.stderr
    assert not out.exists()


def test_a_rule_matching_nothing_is_refused(tmp_path):
    folder = study(tmp_path, lambda ds: not is_stir(ds) and "copy" not in str(ds.SeriesDescription))
    out = tmp_path / "out"
    p = exam("--study", str(folder), "--out", str(out))
    assert p.returncode != 0
    assert "no series" in p.stderr and "input 'STIR'" in p.stderr and "t1_fl2d_sag" in p.stderr
    assert not out.exists()


def test_study_and_input_together_are_refused(tmp_path):
    p = exam("--study", str(EXAM), "--input", str(EXAM), "--out", str(tmp_path / "out"))
    assert p.returncode != 0 and "not both" in p.stderr


def test_study_through_the_python_binding_and_the_c_api_v2_options(tmp_path):
    """vx_exam_run with one input (a study folder) matches as the CLI does; dicom_out needs DICOM
    inputs, and a version-1 caller (struct_size 40) never has its bytes past 40 read."""
    import ctypes
    import voxinfer
    from voxinfer import _capi
    groups = headers()
    t1 = [uid for uid, (_, ds) in groups.items() if is_t1(ds) and "copy" not in str(ds.SeriesDescription)]
    stir = [uid for uid, (_, ds) in groups.items() if is_stir(ds)]
    folder = study(tmp_path, lambda ds: ds.SeriesInstanceUID in t1 + stir)
    exam = voxinfer.Exam(os.path.join(os.environ["VX_SOURCE_DIR"], "weights"))
    report = exam.run(str(folder), tmp_path / "py", gradcam=False, png=False)
    assert [m["series_instance_uid"] for m in report["input_match"]["inputs"]] == [t1[0], stir[0]]
    # The same through the raw C API with a version-1 struct whose (unread) tail asks for DICOM out.
    lib = _capi.lib
    o = _capi.ExamOptions()
    assert lib.vx_exam_options_init_sized(ctypes.byref(o), 40) == 0 and o.struct_size == 40
    o.gradcam, o.png, o.dicom_out = 0, 0, 1
    paths = (ctypes.c_char_p * 1)(str(folder).encode())
    rep = ctypes.c_char_p()
    assert lib.vx_exam_run(exam._exam, paths, 1, str(tmp_path / "v1").encode(), ctypes.byref(o), ctypes.byref(rep)) == 0
    assert "dicom_seg" not in json.loads(rep.value.decode()).get("segmentation", {})
    # NIfTI inputs with dicom_out: refused before anything is written.
    scans = os.path.join(os.environ["VX_SOURCE_DIR"], "examples", "data", "spine-cervical-sct")
    with pytest.raises(voxinfer.VoxinferError, match="DICOM"):
        exam.run([os.path.join(scans, "t1w.nii.gz"), os.path.join(scans, "t2.nii.gz")], tmp_path / "nifti",
                 gradcam=False, dicom_out=True)
    assert not (tmp_path / "nifti").exists()


# Rules declared in a pipeline file (weights/FORMAT.md, inputs[].match): the sequence type and
# the orientation pick each input from the whole four-series export, where the default T1 rule
# is ambiguous (the T1 and its copy).
MODELS = ["demo_denoiser.vxm", "demo_classifier.vxm", "demo_segmenter.vxm"]


def pipeline_with(tmp_path, t1_match, stir_match):
    weights = os.path.join(os.environ["VX_SOURCE_DIR"], "weights")
    p = json.load(open(os.path.join(weights, "demo.pipeline.json")))
    for inp, match in zip(p["inputs"], (t1_match, stir_match)):
        if match is not None:
            inp["match"] = match
    d = tmp_path / "models"
    d.mkdir(exist_ok=True)
    for m in MODELS:
        if not (d / m).exists():
            os.symlink(os.path.join(weights, m), d / m)
    f = d / "rules.pipeline.json"
    f.write_text(json.dumps(p, indent=1))
    return f


def plane(ds):
    import numpy as np
    iop = np.array(ds.ImageOrientationPatient, float)
    n = np.cross(iop[:3], iop[3:])
    return ["sagittal", "coronal", "axial"][int(np.argmax(np.abs(n)))]


def test_pipeline_file_rules_pick_the_series_and_the_report_says_which(tmp_path):
    groups = headers()
    copy = [uid for uid, (_, ds) in groups.items() if is_t1(ds) and "copy" in str(ds.SeriesDescription) and plane(ds) == "sagittal"]
    stir = [uid for uid, (_, ds) in groups.items() if is_stir(ds) and plane(ds) == "axial"]
    assert len(copy) == 1 and len(stir) == 1
    pf = pipeline_with(tmp_path, {"sequence": "t1", "description": "*copy*", "orientation": "sagittal"},
                       {"sequence": "stir", "orientation": "axial"})
    out = tmp_path / "out"
    p = exam("--pipeline", str(pf), "--study", str(EXAM), "--out", str(out))
    assert p.returncode == 0, p.stderr
    match = json.loads((out / "report.json").read_text())["input_match"]
    got = match["inputs"]
    assert [m["series_instance_uid"] for m in got] == [copy[0], stir[0]]
    for m in got:
        ds = groups[m["series_instance_uid"]][1]
        assert m["series_number"] == str(ds.SeriesNumber) and m["series_description"] == ds.SeriesDescription
        assert m["rule_from"] == f"pipeline file {pf}"
    assert got[0]["rule"]["orientation"] == ["sagittal"] and got[0]["rule"]["description"] == ["*copy*"]
    assert got[1]["rule"]["hints"] == ["stir"] and got[1]["rule"]["orientation"] == ["axial"]
    assert len(match["unused"]) == 2


def test_pipeline_file_rule_matching_none_or_several_is_refused_listing_them(tmp_path):
    groups = headers()
    out = tmp_path / "out"
    pf = pipeline_with(tmp_path, {"sequence": "t1", "description": "*copy*"}, {"sequence": "stir", "orientation": "coronal"})
    p = exam("--pipeline", str(pf), "--study", str(EXAM), "--out", str(out))
    assert p.returncode != 0 and "no series" in p.stderr and "input 'STIR'" in p.stderr and "coronal" in p.stderr
    for uid in groups:
        assert uid in p.stderr   # every series listed
    pf = pipeline_with(tmp_path, {"sequence": "t1", "orientation": "sagittal"}, None)
    p = exam("--pipeline", str(pf), "--study", str(EXAM), "--out", str(out))
    assert p.returncode != 0 and "2 series" in p.stderr and "input 'T1'" in p.stderr
    for uid, (_, ds) in groups.items():
        assert (uid in p.stderr) == is_t1(ds)
    assert not out.exists()


def test_pipeline_file_with_a_bad_rule_is_refused_when_loaded(tmp_path):
    for match, words in (({"sequence": "t3"}, "not a sequence type"), ({"orientation": "diagonal"}, "not an orientation"),
                         ({"echo": 2}, "is not a rule")):
        pf = pipeline_with(tmp_path, match, None)
        p = exam("--pipeline", str(pf), "--input", str(EXAM), "--input", str(EXAM), "--out", str(tmp_path / "out"))
        assert p.returncode != 0 and f"pipeline file '{pf}'" in p.stderr and words in p.stderr, p.stderr
        assert not (tmp_path / "out").exists()
