"""`voxinfer segment` on a real MR volume against nnunet_reference.predict (written from nnU-Net's
nnUNetPredictor) with the same PyTorch networks, for nnU-Net folders built as nnU-Net writes them
(make_nnunet_folder.py): a 3d_fullres PlainConvUNet with anisotropic target spacing (the separate-z
rule, padding to the patch), two z-score channels (with and without mask) and two folds, and a 2d
configuration with CT normalisation, and a ResidualEncoderUNet with transposed axes and a CT and a
z-score channel. Tolerances: labels >= 99.99% equal; probabilities (float32
softmax of the float16 aggregated logits resampled back) within 4e-3: the engine's tile logits
differ from PyTorch's by ~1e-5, which can move a float16 sum by one rounding step, 2^-6 for a logit
below 16, i.e. <= 2^-8 in probability; a failing run writes nothing."""
import os
import subprocess

import nibabel
import numpy as np
import pytest
import torch

import make_nnunet_folder as mk
import nnunet_reference as ref
from nnunet.importer import import_nnunet

torch.set_num_threads(1)
CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")
SCAN = os.path.join(os.environ.get("VX_SOURCE_DIR", "."), "tests", "data", "mri", "brain-t1-tiny-monai", "anatomical.nii")
PROB_TOL = 4e-3


def _folder(root, configuration, channels, schemes, use_mask, intensity, folds, spacing=None):
    plans = mk.plain_plans(schemes=schemes, use_mask=use_mask, channels=channels, intensity=intensity)
    plans["configurations"] = {configuration: plans["configurations"][configuration]}
    if spacing is not None:
        plans["configurations"][configuration]["spacing"] = spacing
    folder = os.path.join(root, f"nnUNetTrainer__nnUNetPlans__{configuration}")
    return mk.write_model_folder(folder, plans, mk.dataset_json(channels=channels), configuration, folds)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("seg"))
    # 3d: 2 mm input to 6.5 x 2 x 2 mm target: ratio > 3, so separate z (order 0 along z)
    f3 = _folder(root + "/a", "3d_fullres", {"0": "T1", "1": "T1b"}, ["ZScoreNormalization"] * 2, [True, False],
                 {"0": mk.INTENSITY["1"], "1": mk.INTENSITY["1"]}, (0, 1), spacing=[6.5, 2.0, 2.0])
    f2 = _folder(root + "/b", "2d", {"0": "CT"}, ["CTNormalization"], [False], {"0": mk.INTENSITY["0"]}, (0,),
                 spacing=[1.5, 1.5])
    # ResidualEncoderUNet with transpose_forward [2, 0, 1]; a CT and a z-score channel
    fr = mk.make_resenc_folder(root + "/c")
    out = {}
    for name, folder in (("3d", f3), ("2d", f2), ("resenc", fr)):
        path = os.path.join(root, name + ".vxm")
        _, _, meta, nets = import_nnunet(folder, path, return_networks=True)
        out[name] = (path, meta["nnunet"], nets)
    return out


def segment(model, n_inputs, out, *extra):
    args = [CLI, "segment", "--model", model, "--out", out, "--threads", "1", "--quiet"]
    for _ in range(n_inputs):
        args += ["--input", SCAN]
    return subprocess.run(args + list(extra), capture_output=True, text=True)


def reference(nets, meta, n_inputs, mirror_axes=None):
    data, spacing = ref.read_images_nibabel([SCAN] * n_inputs)
    record = {}
    seg = ref.predict(nets, data, spacing, meta, mirror_axes=mirror_axes, record=record)
    back = torch.from_numpy(np.asarray(record["logits_resampled"])).float()
    probs = torch.softmax(back, 0).numpy()
    props = record["props"]
    full = np.zeros((probs.shape[0], *props["shape_before_cropping"]), np.float32)
    full[(slice(None), *[slice(a, b) for a, b in props["bbox_used_for_cropping"]])] = probs
    return seg, full.transpose([0] + [i + 1 for i in meta["transpose_backward"]]), record


def read_ours(seg_path, prob_path=None):
    img = nibabel.load(seg_path)
    seg = np.asanyarray(img.dataobj).transpose(2, 1, 0)
    probs = None
    if prob_path:
        probs = nibabel.load(prob_path).get_fdata(dtype=np.float32).transpose(3, 2, 1, 0)
    return img, seg, probs


def check_equal(ours_seg, ours_probs, ref_seg, ref_probs):
    assert ours_seg.shape == ref_seg.shape
    agree = float(np.mean(ours_seg == ref_seg))
    assert agree >= 0.9999, agree
    assert ours_probs.shape == ref_probs.shape
    assert np.abs(ours_probs - ref_probs).max() <= PROB_TOL
    assert len(np.unique(ref_seg)) > 1  # the random network does not give one label everywhere


@pytest.mark.parametrize("name,n_inputs", [("3d", 2), ("2d", 1), ("resenc", 2)])
def test_segment_equals_reference(models, tmp_path, name, n_inputs):
    path, meta, nets = models[name]
    seg_path, prob_path = str(tmp_path / "seg.nii.gz"), str(tmp_path / "p.nii.gz")
    r = segment(path, n_inputs, seg_path, "--probabilities", prob_path)
    assert r.returncode == 0, r.stderr
    img, seg, probs = read_ours(seg_path, prob_path)
    assert img.get_data_dtype() == np.uint8
    np.testing.assert_allclose(img.affine, nibabel.load(SCAN).affine, atol=1e-5)
    ref_seg, ref_probs, record = reference(nets, meta, n_inputs)
    if name == "3d":
        assert record["preprocessed"].shape[1] < meta["patch_size"][0]  # padded to the patch along z
    check_equal(seg, probs, ref_seg, ref_probs)


def test_no_mirroring_and_folds_change_the_result_as_the_reference(models, tmp_path):
    path, meta, nets = models["3d"]
    _, full_probs, _ = reference(nets, meta, 2)
    for extra, ref_nets, axes in ((["--no-mirroring"], nets, []), (["--folds", "1"], nets[1:], None)):
        seg_path, prob_path = str(tmp_path / "s.nii.gz"), str(tmp_path / "p.nii.gz")
        r = segment(path, 2, seg_path, "--probabilities", prob_path, *extra)
        assert r.returncode == 0, r.stderr
        _, seg, probs = read_ours(seg_path, prob_path)
        ref_seg, ref_probs, _ = reference(ref_nets, meta, 2, mirror_axes=axes)
        check_equal(seg, probs, ref_seg, ref_probs)
        assert np.abs(probs - full_probs).max() > 10 * PROB_TOL  # the option changed the result


def test_memory_limit_fails_before_writing(models, tmp_path):
    path, _, _ = models["3d"]
    seg_path = str(tmp_path / "never.nii.gz")
    r = segment(path, 2, seg_path, "--memory-limit", "1")
    assert r.returncode != 0
    assert "MB" in r.stderr and "needs about" in r.stderr, r.stderr
    assert os.listdir(str(tmp_path)) == []


def test_bad_folds_and_inputs_are_clear_errors(models, tmp_path):
    path, _, _ = models["3d"]
    out = str(tmp_path / "x.nii.gz")
    r = segment(path, 2, out, "--folds", "0,7")
    assert r.returncode != 0 and "fold '7'" in r.stderr, r.stderr
    r = segment(path, 1, out)
    assert r.returncode != 0 and "takes 2 input" in r.stderr, r.stderr
    assert os.listdir(str(tmp_path)) == []


def test_fp32_accumulation_equals_the_reference_in_float32(models, tmp_path):
    """--fp32-accumulation against the reference's float32 aggregation (same Gaussian map); it is not
    nnU-Net's float16 result, which is why float16 is the default."""
    path, meta, nets = models["3d"]
    seg_path, prob_path = str(tmp_path / "s.nii.gz"), str(tmp_path / "p.nii.gz")
    r = segment(path, 2, seg_path, "--probabilities", prob_path, "--fp32-accumulation")
    assert r.returncode == 0, r.stderr
    _, seg, probs = read_ours(seg_path, prob_path)
    data, spacing = ref.read_images_nibabel([SCAN] * 2)
    pre, props = ref.preprocess(data, spacing, meta)
    logits = ref.predict_logits(nets, pre, meta, accumulation_dtype=torch.float32)
    ref_seg, back = ref.export(logits, props, meta)
    p = torch.softmax(torch.from_numpy(np.asarray(back)).float(), 0).numpy()
    full = np.zeros((p.shape[0], *props["shape_before_cropping"]), np.float32)
    full[(slice(None), *[slice(a, b) for a, b in props["bbox_used_for_cropping"]])] = p
    assert np.mean(seg == ref_seg) >= 0.9999
    assert np.abs(probs - full).max() <= 1e-4  # float32 sums: only the engine's ~1e-5 tile differences remain
    _, half_probs, _ = reference(nets, meta, 2)
    assert np.abs(probs - half_probs).max() > 10 * 1e-4  # float16 accumulation is measurably different


def test_python_segment_equals_the_cli_and_cancels(models, tmp_path):
    """voxinfer.segment (vx_segment) writes what the CLI writes; a progress callback that asks to
    stop cancels between tiles and leaves no file; the memory limit is VX_ERR_LIMIT_EXCEEDED."""
    voxinfer = pytest.importorskip("voxinfer")
    path, _, _ = models["3d"]
    a, b = str(tmp_path / "cli.nii.gz"), str(tmp_path / "py.nii.gz")
    assert segment(path, 2, a, "--folds", "1", "--no-mirroring").returncode == 0
    stages = []
    voxinfer.segment(path, [SCAN, SCAN], b, folds=[1], mirroring=False,
                     progress=lambda s, d, t: stages.append((s, d, t)) and False)
    assert np.array_equal(read_ours(a)[1], read_ours(b)[1])
    assert ("tiles", 0, 4) in stages and ("tiles", 4, 4) in stages
    os.remove(a), os.remove(b)
    with pytest.raises(voxinfer.CancelledError):
        voxinfer.segment(path, [SCAN, SCAN], b, progress=lambda s, d, t: s == "tiles" and d == 2)
    with pytest.raises(voxinfer.VoxinferError, match="needs about") as e:
        voxinfer.segment(path, [SCAN, SCAN], b, memory_limit_mb=1)
    assert e.value.status_name == "VX_ERR_LIMIT_EXCEEDED"
    assert os.listdir(str(tmp_path)) == []
