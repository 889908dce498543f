"""`voxinfer dicom-seg` writes a label mask as a DICOM Segmentation that an independent reader
places where the scan is: pydicom reads the SEG, every frame's ImagePositionPatient /
ImageOrientationPatient / PixelSpacing and ReferencedSegmentNumber mapped through the NIfTI
mask's affine (nibabel) gives exactly the mask's voxels (positions within 1e-3 voxel of the grid);
the SEG is in the source's study and frame of reference, in a new series, and each frame derives
from the source image (and frame) at its position, found with pydicom from the source files.
Sources: the real 35-slice sagittal T1 series and the real enhanced multi-frame file in
tests/data/mri; masks are thresholds of the scan (pydicom's pixels) written with nibabel.
dcmdump (dcmtk) and dcm2niix read the SEG without error. A series with a slice removed is refused
as a reference, and with --resample-uneven-slices the SEG lies on voxinfer's resampled grid with
each resampled frame derived from the two source images around it (pydicom's positions). A mask
off the reference grid, of another size, or a NIfTI reference is refused, and nothing is left
behind."""
import os
import pathlib
import shutil
import subprocess

import nibabel as nib
import numpy as np
import pydicom
import pytest

from dicom_oracle import dcm2niix_run, dcmdump_ok, read_series, seg_frames, seg_on_grid, series_affine, series_voxels

CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")
DATA = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR", pathlib.Path(__file__).resolve().parents[1] / "data"))
SAG = DATA / "mri" / "dicom-brain-t1-sag-35sl"
ENH = DATA / "mri" / "dicom-enhanced-multiframe" / "enh.dcm"
SEG_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"


def voxinfer(*args):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=300)


def threshold_labels(vox):
    """0 / 1 (above the 90th percentile) / 2 (above the 99th), [slice, row, column]."""
    lo, hi = np.percentile(vox, [90, 99])
    return (vox > lo).astype(np.int16) + (vox > hi).astype(np.int16)


def write_mask(path, labels_krc, affine):
    img = nib.Nifti1Image(np.ascontiguousarray(labels_krc.transpose(2, 1, 0)), affine)  # -> [i=column, j=row, k]
    img.set_sform(affine, 1)
    img.set_qform(affine, 1)
    img.header.set_slope_inter(1.0, 0.0)
    nib.save(img, str(path))
    return img


def enhanced_frames(ds):
    """(frame numbers sorted along the normal, their IPPs, voxels [slice, row, column], RAS affine)."""
    shared = ds.SharedFunctionalGroupsSequence[0]
    pf = ds.PerFrameFunctionalGroupsSequence
    def attr(f, seq, kw):
        g = pf[f] if seq in pf[f] else shared
        return np.array(g[seq][0][kw].value, float)
    iop = attr(0, "PlaneOrientationSequence", "ImageOrientationPatient")
    ps = attr(0, "PixelMeasuresSequence", "PixelSpacing")
    normal = np.cross(iop[:3], iop[3:])
    ipps = [attr(f, "PlanePositionSequence", "ImagePositionPatient") for f in range(len(pf))]
    order = sorted(range(len(pf)), key=lambda f: float(np.dot(normal, ipps[f])))
    pix = ds.pixel_array.astype(np.float32)
    lps = np.eye(4)
    lps[:3, 0], lps[:3, 1] = iop[:3] * ps[1], iop[3:] * ps[0]
    lps[:3, 2] = (ipps[order[-1]] - ipps[order[0]]) / (len(order) - 1)
    lps[:3, 3] = ipps[order[0]]
    return [f + 1 for f in order], [ipps[f] for f in order], pix[order], np.diag([-1.0, -1.0, 1, 1]) @ lps


def check_common(seg, src, mask_img, names):
    assert seg.SOPClassUID == SEG_CLASS and seg.file_meta.MediaStorageSOPClassUID == SEG_CLASS
    assert seg.Modality == "SEG" and seg.SegmentationType == "BINARY"
    assert seg.BitsAllocated == 1 and seg.SamplesPerPixel == 1 and seg.PhotometricInterpretation == "MONOCHROME2"
    assert seg.StudyInstanceUID == src.StudyInstanceUID
    assert seg.FrameOfReferenceUID == src.FrameOfReferenceUID
    assert seg.PatientID == src.PatientID
    assert seg.SeriesInstanceUID != src.SeriesInstanceUID and seg.SOPInstanceUID != src.SOPInstanceUID
    assert [int(s.SegmentNumber) for s in seg.SegmentSequence] == list(range(1, len(names) + 1))
    assert [s.SegmentLabel for s in seg.SegmentSequence] == names
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == src.SeriesInstanceUID
    labels = seg_on_grid(seg, mask_img.shape, mask_img.affine)
    want = np.asarray(mask_img.dataobj).astype(np.int32)
    assert np.count_nonzero(want) > 0
    np.testing.assert_array_equal(labels, want)
    # pydicom's own unpacking of the 1-bit pixels agrees with ours (where pydicom can).
    np.testing.assert_array_equal(seg.pixel_array.reshape(-1), seg_frames(seg).reshape(-1))


def frame_sources(seg):
    out = []
    for f in seg.PerFrameFunctionalGroupsSequence:
        src = f.DerivationImageSequence[0].SourceImageSequence[0]
        out.append((np.array(f.PlanePositionSequence[0].ImagePositionPatient, float), src.ReferencedSOPInstanceUID,
                    int(src.get("ReferencedFrameNumber", 0))))
    return out


def test_seg_of_a_real_series_places_every_voxel_as_the_mask(tmp_path):
    dss = read_series(SAG)
    affine = series_affine(dss)
    mask = write_mask(tmp_path / "mask.nii.gz", threshold_labels(series_voxels(dss)), affine)
    out = tmp_path / "out" / "seg.dcm"
    out.parent.mkdir()
    p = voxinfer("dicom-seg", "--mask", tmp_path / "mask.nii.gz", "--reference", SAG, "--out", out, "--label-names", "bright,brightest")
    assert p.returncode == 0, p.stderr
    assert sorted(x.name for x in out.parent.iterdir()) == ["seg.dcm"]  # no temporary file left
    seg = pydicom.dcmread(str(out))
    check_common(seg, dss[0], mask, ["bright", "brightest"])
    assert int(seg.NumberOfFrames) == 2 * len(dss)
    # Each frame derives from the source image at its position (pydicom's IPPs, within 1e-4 mm).
    by_uid = {d.SOPInstanceUID: np.array(d.ImagePositionPatient, float) for d in dss}
    for ipp, uid, frame in frame_sources(seg):
        assert frame == 0 and np.abs(by_uid[uid] - ipp).max() < 1e-4
    listed = {i.ReferencedSOPInstanceUID for i in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
    assert listed == set(by_uid)
    # dcmtk and dcm2niix read it.
    dump = dcmdump_ok(out)
    if dump is None:
        pytest.skip("dcmdump (dcmtk) is not installed")
    assert "SegmentSequence" in dump and "PerFrameFunctionalGroupsSequence" in dump
    # dcm2niix (1.0.20220720) converts a binary SEG as one 3-D image of all its frames stacked
    # ("Support for images that allocate 1 bits is experimental"): the same frames and set pixels.
    res = dcm2niix_run(out.parent, tmp_path / "niix")
    if res is None:
        pytest.skip("dcm2niix is not installed")
    _, niis = res
    assert len(niis) == 1
    conv = np.asarray(nib.load(str(niis[0])).dataobj)
    assert conv.shape[:3] == (seg.Columns, seg.Rows, int(seg.NumberOfFrames))
    assert int(np.count_nonzero(conv)) == int(seg_frames(seg).sum())


def test_seg_of_an_enhanced_multiframe_file_references_its_frames(tmp_path):
    src = pydicom.dcmread(str(ENH))
    frames, ipps, vox, affine = enhanced_frames(src)
    mask = write_mask(tmp_path / "mask.nii.gz", (vox > np.percentile(vox, 80)).astype(np.int16), affine)
    out = tmp_path / "seg.dcm"
    p = voxinfer("dicom-seg", "--mask", tmp_path / "mask.nii.gz", "--reference", ENH, "--out", out)
    assert p.returncode == 0, p.stderr
    seg = pydicom.dcmread(str(out))
    check_common(seg, src, mask, ["label 1"])
    got = frame_sources(seg)
    assert [f for _, _, f in got] == frames
    for (ipp, uid, _), want in zip(got, ipps):
        assert uid == src.SOPInstanceUID and np.abs(ipp - want).max() < 1e-4
    assert dcmdump_ok(out) is not None or pytest.skip("dcmdump (dcmtk) is not installed")


@pytest.mark.parametrize("change", ["shifted", "cropped", "nifti-reference", "fractional"])
def test_a_mask_off_the_reference_grid_is_refused_and_nothing_is_left(tmp_path, change):
    dss = read_series(SAG)
    affine = series_affine(dss)
    labels = threshold_labels(series_voxels(dss)).astype(np.float32)
    if change == "shifted":
        affine = affine.copy()
        affine[:3, 3] += [0.0, 0.0, 2.0]
    if change == "cropped":
        labels = labels[:-1]
    if change == "fractional":
        labels = labels * 0.5
    write_mask(tmp_path / "mask.nii.gz", labels, affine)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    ref = tmp_path / "mask.nii.gz" if change == "nifti-reference" else SAG
    p = voxinfer("dicom-seg", "--mask", tmp_path / "mask.nii.gz", "--reference", ref, "--out", out_dir / "seg.dcm")
    assert p.returncode != 0
    expect = {"shifted": "reference series' voxel grid", "cropped": "reference series' voxel grid",
              "nifti-reference": "is not DICOM", "fractional": "integer labels"}[change]
    assert expect in p.stderr, p.stderr
    assert list(out_dir.iterdir()) == []


def test_uneven_reference_is_refused_or_resampled_with_interpolated_frames_derived_from_both_neighbours(tmp_path):
    import voxinfer
    dss = read_series(SAG)
    uneven = tmp_path / "uneven"
    uneven.mkdir()
    for k, d in enumerate(dss):
        if k != 10:  # one slice missing
            shutil.copy(d.filename, uneven / pathlib.Path(d.filename).name)
    mask_path, out = tmp_path / "mask.nii.gz", tmp_path / "seg.dcm"
    ref = voxinfer.read_volume(str(uneven), resample_uneven_slices=True)
    scan = np.asarray(ref.data)
    labels = (scan > np.percentile(scan, 95)).astype(np.int16)
    img = nib.Nifti1Image(labels, np.array(ref.affine))
    img.header.set_slope_inter(1.0, 0.0)
    nib.save(img, str(mask_path))
    p = subprocess.run([CLI, "dicom-seg", "--mask", str(mask_path), "--reference", str(uneven),
                        "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert p.returncode != 0 and "uneven" in p.stderr and not out.exists(), p.stderr
    p = subprocess.run([CLI, "dicom-seg", "--mask", str(mask_path), "--reference", str(uneven), "--out", str(out),
                        "--resample-uneven-slices"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    seg = pydicom.dcmread(str(out))
    np.testing.assert_array_equal(seg_on_grid(seg, labels.shape, img.affine), labels.astype(np.int32))
    kept = [d for k, d in enumerate(dss) if k != 10]
    iop = np.array(kept[0].ImageOrientationPatient, float)
    normal = np.cross(iop[:3], iop[3:])
    pos = {d.SOPInstanceUID: np.array(d.ImagePositionPatient, float) for d in kept}
    interpolated = 0
    for f in seg.PerFrameFunctionalGroupsSequence:
        ipp = np.array(f.PlanePositionSequence[0].ImagePositionPatient, float)
        uids = [s.ReferencedSOPInstanceUID for s in f.DerivationImageSequence[0].SourceImageSequence]
        at = [u for u, q in pos.items() if np.abs(q - ipp).max() < 1e-3]
        if at:
            assert uids == at
            continue
        interpolated += 1
        assert len(uids) == 2
        sides = sorted(float(np.dot(normal, pos[u] - ipp)) for u in uids)
        assert sides[0] < 0 < sides[1]
        others = [float(np.dot(normal, q - ipp)) for u, q in pos.items() if u not in uids]
        assert all(o < sides[0] or o > sides[1] for o in others)  # the nearest on each side
    assert interpolated > 0
