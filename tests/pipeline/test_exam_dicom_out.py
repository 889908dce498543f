"""`voxinfer exam --dicom-out` on two DICOM series (the real 35-slice sagittal T1 in tests/data/mri,
and a STIR-like series pydicom writes here from the real abdomen volume) writes, referencing the
series each was computed on:
- lesion_seg.dcm: a DICOM-SEG that pydicom + the frames' own positions place voxel for voxel as
  lesion_mask.nii.gz (nibabel), in the STIR series' study and frame of reference, each frame
  derived from the STIR image at its position;
- <seq>_gradcam_sc/IM_NNNN.dcm: one RGB secondary capture per slice of each scan, at that
  slice's position (InstanceNumber = slice along the normal), whose pixels are the defined
  rendering of <seq>_gradcam.nii.gz on the scan, recomputed here from pydicom's pixels, nibabel's
  map and matplotlib's inferno table: grey = scan scaled by its min/max to 0..255, heat =
  inferno(map clipped to [0, 1] x 255), pixel = (grey + heat) / 2, each rounded to 8 bits; the
  tolerance, 2 levels per channel, covers the three roundings (OpenCV's float32 vs float64 here).
dcmdump reads the SEG and the captures without error; dcm2niix reads the capture folder and the
SEG without error. A NIfTI input with --dicom-out is refused before anything is written."""
import json
import os
import pathlib
import subprocess
import sys

import nibabel as nib
import numpy as np
import pydicom
import pytest

from dicom_oracle import dcm2niix_run, dcmdump_ok, read_series, seg_on_grid, series_voxels

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "io"))
from dicom_writer import write_series  # noqa: E402

CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")
DATA = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR", pathlib.Path(__file__).resolve().parents[1] / "data"))
SAG = DATA / "mri" / "dicom-brain-t1-sag-35sl"
SC_CLASS = "1.2.840.10008.5.1.4.1.1.7"


def write_stir(folder):
    img = nib.load(str(DATA / "mri" / "abdomen-lumbar-totalseg" / "example_mr_sm.nii.gz"))
    data = np.asarray(img.dataobj).astype(np.int64)
    data -= min(0, data.min())
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ img.affine
    zoom = np.linalg.norm(lps[:3, :3], axis=0)
    iop = np.concatenate([lps[:3, 0] / zoom[0], lps[:3, 1] / zoom[1]])
    template = pydicom.dcmread(str(sorted(SAG.glob("*.dcm"))[0]))
    write_series(folder, template, [data[:, :, k].T for k in range(data.shape[2])],
                 [lps[:3, :3] @ [0, 0, k] + lps[:3, 3] for k in range(data.shape[2])], iop, zoom[[1, 0]],
                 SeriesNumber=5, SeriesDescription="stir_tra", FrameOfReferenceUID=pydicom.uid.generate_uid(),
                 StudyInstanceUID=pydicom.uid.generate_uid())


@pytest.fixture(scope="module")
def exam(tmp_path_factory):
    root = tmp_path_factory.mktemp("exam_dicom_out")
    write_stir(root / "stir")
    out = root / "out"
    p = subprocess.run([CLI, "exam", "--input", str(SAG), "--input", str(root / "stir"), "--out", str(out),
                        "--dicom-out", "--json", "--quiet", "--threads", "2"], capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr
    return root, out, json.loads(p.stdout)


def inferno_lut():
    import matplotlib
    return np.rint(np.array(matplotlib.colormaps["inferno"].colors, float) * 255).astype(np.int64)  # 256 x RGB


def test_lesion_seg_places_the_lesion_mask(exam):
    root, out, report = exam
    assert "lesion_seg.dcm" in report["outputs"] and report["segmentation"]["dicom_seg"] == "lesion_seg.dcm"
    stir = read_series(root / "stir")
    seg = pydicom.dcmread(str(out / "lesion_seg.dcm"))
    assert seg.Modality == "SEG" and seg.SegmentationType == "BINARY"
    assert [s.SegmentLabel for s in seg.SegmentSequence] == ["lesion"]
    assert seg.StudyInstanceUID == stir[0].StudyInstanceUID and seg.FrameOfReferenceUID == stir[0].FrameOfReferenceUID
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == stir[0].SeriesInstanceUID
    assert int(seg.NumberOfFrames) == len(stir)
    mask = nib.load(str(out / "lesion_mask.nii.gz"))
    np.testing.assert_array_equal(seg_on_grid(seg, mask.shape, mask.affine), np.asarray(mask.dataobj).astype(np.int32))
    by_uid = {d.SOPInstanceUID: np.array(d.ImagePositionPatient, float) for d in stir}
    for f in seg.PerFrameFunctionalGroupsSequence:
        uid = f.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        assert np.abs(by_uid[uid] - np.array(f.PlanePositionSequence[0].ImagePositionPatient, float)).max() < 1e-4
    if dcmdump_ok(out / "lesion_seg.dcm") is None:
        pytest.skip("dcmdump (dcmtk) is not installed")


@pytest.mark.parametrize("seq", ["t1", "stir"])
def test_gradcam_secondary_captures_are_the_overlay_at_each_slice(exam, seq):
    root, out, report = exam
    src = read_series(SAG if seq == "t1" else root / "stir")
    folder = out / f"{seq}_gradcam_sc"
    assert f"{seq}_gradcam_sc" in report["outputs"]
    files = sorted(folder.iterdir())
    assert len(files) == len(src)
    scs = sorted((pydicom.dcmread(str(f)) for f in files), key=lambda d: int(d.InstanceNumber))
    assert [int(d.InstanceNumber) for d in scs] == list(range(1, len(src) + 1))
    assert len({d.SeriesInstanceUID for d in scs}) == 1 and scs[0].SeriesInstanceUID != src[0].SeriesInstanceUID
    scan = series_voxels(src).astype(np.float64)
    cam = np.asarray(nib.load(str(out / f"{seq}_gradcam.nii.gz")).dataobj, np.float64).transpose(2, 1, 0)  # [k, j, i]
    lo, hi = scan.min(), scan.max()
    grey = np.clip(np.rint((scan - lo) * 255.0 / (hi - lo)), 0, 255).astype(np.int64)
    heat = inferno_lut()[np.clip(np.rint(np.clip(cam, 0, 1) * 255), 0, 255).astype(np.int64)]
    want = np.clip(np.rint(0.5 * grey[..., None] + 0.5 * heat), 0, 255)
    for k, (sc, s) in enumerate(zip(scs, src)):
        assert sc.SOPClassUID == SC_CLASS and sc.Modality == "OT"
        assert sc.SamplesPerPixel == 3 and sc.PhotometricInterpretation == "RGB" and sc.BitsAllocated == 8
        assert (sc.Rows, sc.Columns) == (s.Rows, s.Columns)
        assert sc.StudyInstanceUID == s.StudyInstanceUID and sc.FrameOfReferenceUID == s.FrameOfReferenceUID
        assert np.abs(np.array(sc.ImagePositionPatient, float) - np.array(s.ImagePositionPatient, float)).max() < 1e-4
        assert np.abs(np.array(sc.ImageOrientationPatient, float) - np.array(s.ImageOrientationPatient, float)).max() < 1e-6
        assert sc.SourceImageSequence[0].ReferencedSOPInstanceUID == s.SOPInstanceUID
        diff = np.abs(sc.pixel_array.astype(np.int64) - want[k])
        assert diff.max() <= 2, f"slice {k + 1}: RGB differs by up to {diff.max()} levels"
    assert cam.max() > 0  # the map is not empty, so the colours were checked
    if dcmdump_ok(files[0]) is None:
        pytest.skip("dcmdump (dcmtk) is not installed")


def test_a_mask_on_the_exams_nifti_grid_is_placed_on_the_dicom_series(exam, tmp_path):
    """The demo segmenter may find no lesion in these scans (lesion_seg.dcm then has empty frames),
    so a non-empty mask made from the exam's own NIfTI output (the T1 Grad-CAM map above 0.5, on
    the T1 grid, written with nibabel) goes through `voxinfer dicom-seg` onto the T1 series: the
    exam's NIfTI grid is the DICOM series' grid, voxel for voxel."""
    root, out, _ = exam
    cam = nib.load(str(out / "t1_gradcam.nii.gz"))
    labels = (np.asarray(cam.dataobj) > 0.5).astype(np.int16)
    assert labels.any()
    img = nib.Nifti1Image(labels, cam.affine)
    img.header.set_slope_inter(1.0, 0.0)
    nib.save(img, str(tmp_path / "hot.nii.gz"))
    p = subprocess.run([CLI, "dicom-seg", "--mask", str(tmp_path / "hot.nii.gz"), "--reference", str(SAG),
                        "--out", str(tmp_path / "hot.dcm")], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    seg = pydicom.dcmread(str(tmp_path / "hot.dcm"))
    np.testing.assert_array_equal(seg_on_grid(seg, labels.shape, cam.affine), labels.astype(np.int32))


def test_dcm2niix_reads_the_outputs(exam, tmp_path):
    """dcm2niix (1.0.20220720) converts the capture folder into one RGB volume of all slices and
    the SEG into one volume of its frames; both exit 0 without an error line."""
    root, out, _ = exam
    sc = dcm2niix_run(out / "t1_gradcam_sc", tmp_path / "sc")
    if sc is None:
        pytest.skip("dcm2niix is not installed")
    assert len(sc[1]) == 1
    src = read_series(SAG)
    assert nib.load(str(sc[1][0])).shape[:3] == (src[0].Columns, src[0].Rows, len(src))
    seg_dir = tmp_path / "seg_in"
    seg_dir.mkdir()
    (seg_dir / "lesion_seg.dcm").symlink_to(out / "lesion_seg.dcm")
    dcm2niix_run(seg_dir, tmp_path / "seg")


def test_dicom_out_needs_dicom_inputs(tmp_path):
    nii = DATA / "mri" / "abdomen-lumbar-totalseg" / "example_mr_sm.nii.gz"
    out = tmp_path / "out"
    p = subprocess.run([CLI, "exam", "--input", str(SAG), "--input", str(nii), "--out", str(out), "--dicom-out", "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "DICOM outputs need DICOM inputs" in p.stderr, p.stderr
    assert not out.exists() or list(out.iterdir()) == []
