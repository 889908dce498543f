"""convert.py --from-nnunet on folders built as nnU-Net writes them (make_nnunet_folder.py):
metadata equal to plans.json / dataset.json / the checkpoint, one output per fold, and the written
graph (run by vxm_torch_runner, and by the engine once it has InstanceNormalization) equal to each
fold's PyTorch module within 1e-5."""
import json
import os
import shutil

import numpy as np
import pytest
import torch

import convert
import vxm
import make_nnunet_folder as mk
import vxm_torch_runner
from nnunet.importer import NnunetImportError, import_nnunet, label_info

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("nnunet"))
    plain = mk.make_plain_folders(root, folds=(0, 1))
    return {"3d_fullres": plain["3d_fullres"], "2d": plain["2d"], "resenc": mk.make_resenc_folder(root)}


def check_graph_equals_modules(path, nets, folds, seed=0):
    model = vxm.read(path)
    shape = model["graph"]["inputs"][0]["shape"]
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    outs = vxm_torch_runner.run(model, {"input": x})
    assert list(outs) == [f"logits_fold_{f}" for f in folds]
    refs = []
    for f, net in zip(folds, nets):
        with torch.no_grad():
            ref = net(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(outs[f"logits_fold_{f}"], ref, rtol=0, atol=1e-5 * max(1, np.abs(ref).max()))
        refs.append(ref)
    if len(refs) > 1:
        assert np.abs(refs[0] - refs[1]).max() > 1e-3  # the folds are different networks
    return model


@pytest.mark.parametrize("kind", ["3d_fullres", "2d", "resenc"])
def test_import_metadata_equals_plans_and_dataset(folders, kind, tmp_path):
    folder = folders[kind]
    out = str(tmp_path / "m.vxm")
    graph, _, meta, nets = import_nnunet(folder, out, return_networks=True)
    plans = json.load(open(os.path.join(folder, "plans.json")))
    ds = json.load(open(os.path.join(folder, "dataset.json")))
    conf_name = "2d" if kind == "2d" else "3d_fullres"
    conf = plans["configurations"][conf_name]
    folds = [0] if kind == "resenc" else [0, 1]
    model = check_graph_equals_modules(out, nets, folds)
    m = model["metadata"]["nnunet"]
    assert m["configuration"] == conf_name and m["folds"] == folds
    assert m["spacing"] == conf["spacing"] and m["patch_size"] == conf["patch_size"]
    assert m["transpose_forward"] == plans["transpose_forward"]
    assert m["transpose_backward"] == plans["transpose_backward"]
    assert m["allowed_mirroring_axes"] == list(range(len(conf["patch_size"])))
    assert m["file_ending"] == ds["file_ending"] and m["labels"] == ds["labels"]
    assert [c["name"] for c in m["channels"]] == [ds["channel_names"][k] for k in sorted(ds["channel_names"])]
    assert [c["normalization"] for c in m["channels"]] == conf["normalization_schemes"]
    assert [c["use_mask_for_norm"] for c in m["channels"]] == conf["use_mask_for_norm"]
    for i, c in enumerate(m["channels"]):
        assert c["intensity_properties"] == plans["foreground_intensity_properties_per_channel"][str(i)]
    for k in ("data", "seg", "probabilities"):
        assert m["resampling"][k] == {"fn": conf[f"resampling_fn_{k}"], "kwargs": conf[f"resampling_fn_{k}_kwargs"]}
    assert m["separate_z_anisotropy_threshold"] == 3
    assert m["num_segmentation_heads"] == 3 and m["inference_nonlin"] == "softmax"
    assert m["source"]["plans_name"] == plans["plans_name"]
    assert m["trainer_name"] == "nnUNetTrainer"
    assert model["graph"]["inputs"][0]["shape"] == [1, 2] + conf["patch_size"]
    assert {n["op"] for n in model["graph"]["nodes"]} >= {"Conv", "ConvTranspose", "InstanceNormalization",
                                                          "LeakyRelu", "Concat"}


def test_folds_and_checkpoint_selection(folders, tmp_path):
    folder = folders["3d_fullres"]
    _, _, meta, nets = import_nnunet(folder, str(tmp_path / "f1.vxm"), folds=[1], return_networks=True)
    assert meta["nnunet"]["folds"] == [1]
    check_graph_equals_modules(str(tmp_path / "f1.vxm"), nets, [1])
    with pytest.raises(NnunetImportError, match="fold 3"):
        import_nnunet(folder, None, folds=[3])
    with pytest.raises(NnunetImportError, match="checkpoint_best.pth"):
        import_nnunet(folder, None, checkpoint="checkpoint_best.pth")
    with pytest.raises(NnunetImportError, match="'3d_fullres', not '2d'"):
        import_nnunet(folder, None, configuration="2d")


def test_cli(folders, tmp_path, capsys):
    out = str(tmp_path / "cli.vxm")
    assert convert.main(["--from-nnunet", folders["2d"], out, "--configuration", "2d", "--folds", "0"]) == 0
    assert vxm.read(out)["metadata"]["nnunet"]["configuration"] == "2d"
    assert convert.main(["--from-nnunet", folders["2d"], out, "--folds", "zero"]) == 1
    assert "--folds 'zero'" in capsys.readouterr().err


def test_regions(tmp_path):
    folder = mk.write_model_folder(str(tmp_path / "r"), mk.plain_plans(), mk.dataset_json(regions=True), "2d")
    _, _, meta, nets = import_nnunet(folder, str(tmp_path / "r.vxm"), return_networks=True)
    m = meta["nnunet"]
    assert m["has_regions"] and m["regions"] == [[1, 2], [2]] and m["regions_class_order"] == [1, 2]
    assert m["num_segmentation_heads"] == 2 and m["inference_nonlin"] == "sigmoid"
    check_graph_equals_modules(str(tmp_path / "r.vxm"), nets, [0])


def test_label_info_errors():
    with pytest.raises(NnunetImportError, match="regions_class_order"):
        label_info({"labels": {"background": 0, "a": [1, 2], "b": 2}})
    with pytest.raises(NnunetImportError, match="background"):
        label_info({"labels": {"a": 1}})


def test_custom_network_class_is_a_clear_error(tmp_path):
    plans = mk.plain_plans()
    folder = mk.write_model_folder(str(tmp_path / "c"), plans, mk.dataset_json(), "2d")
    plans["configurations"]["2d"]["architecture"]["network_class_name"] = "mylab.networks.SwinThing"
    json.dump(plans, open(os.path.join(folder, "plans.json"), "w"))
    with pytest.raises(NnunetImportError, match=r"mylab\.networks\.SwinThing"):
        import_nnunet(folder, None)


def test_weights_that_do_not_fit_are_a_clear_error(tmp_path):
    plans = mk.plain_plans()
    folder = mk.write_model_folder(str(tmp_path / "w"), plans, mk.dataset_json(), "2d")
    plans["configurations"]["2d"]["architecture"]["arch_kwargs"]["features_per_stage"] = [8, 8, 16]
    json.dump(plans, open(os.path.join(folder, "plans.json"), "w"))
    with pytest.raises(NnunetImportError, match="do not fit"):
        import_nnunet(folder, None)


def test_not_a_results_folder(tmp_path):
    with pytest.raises(NnunetImportError, match="plans.json is missing"):
        import_nnunet(str(tmp_path), None)


def test_engine_runs_the_imported_network(folders, tmp_path):
    """The imported 2d network (InstanceNorm + LeakyReLU blocks) in the engine equals PyTorch's."""
    voxinfer = pytest.importorskip("voxinfer")
    out = str(tmp_path / "e.vxm")
    _, _, _, nets = import_nnunet(folders["2d"], out, return_networks=True)
    x = np.random.default_rng(3).standard_normal((1, 2, 32, 32)).astype(np.float32)
    with voxinfer.Model(out, threads=1) as m:
        ys = m.run(x)
    ys = ys if isinstance(ys, (list, tuple)) else [ys]
    assert len(ys) == len(nets)  # one output per fold
    for y, net in zip(ys, nets):
        with torch.no_grad():
            ref = net(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(y, ref, rtol=0, atol=1e-4 * max(1, np.abs(ref).max()))


def test_engine_accepts_the_multi_fold_graph(folders, tmp_path):
    """The two-fold 3d_fullres graph: the engine's fold outputs equal the PyTorch runner's
    (tests/nnunet/vxm_torch_runner.py, independent of the engine) on the same .vxm."""
    voxinfer = pytest.importorskip("voxinfer")
    path = str(tmp_path / "a.vxm")
    import_nnunet(folders["3d_fullres"], path)
    model = vxm.read(path)
    x = np.random.default_rng(5).standard_normal(model["graph"]["inputs"][0]["shape"]).astype(np.float32)
    ref = vxm_torch_runner.run(vxm.read(path), {"input": x})
    with voxinfer.Model(path, threads=1) as m:
        names = m.output_names
        ys = m.run(x)
    assert names == ["logits_fold_0", "logits_fold_1"]
    for y, name in zip(ys, names):
        np.testing.assert_allclose(y, ref[name], rtol=0, atol=1e-4 * max(1, np.abs(ref[name]).max()))
