#!/usr/bin/python3
"""Compares nnunet_reference.py with nnU-Net v2 itself, step by step (not a CI test: CI cannot
fetch nnU-Net). Needs nnU-Net v2, dynamic-network-architectures, acvl_utils, batchgenerators and
batchgeneratorsv2 sources unpacked under SRC_ROOT/<owner>+<name>/ (e.g. `git --git-dir=...
archive HEAD | tar -x -C SRC_ROOT/MIC-DKFZ+nnUNet`); packages inference never calls are stubbed.

    python3 tests/nnunet/crosscheck_nnunet.py SRC_ROOT WORK_DIR IMAGE.nii.gz [--case NAME ...]

Prints one JSON object per case with the max abs differences and % equal labels (README.md).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "weights")]
torch.set_num_threads(1)

import make_nnunet_folder as mk  # noqa: E402
import nnunet_reference as ref  # noqa: E402
from nnunet.importer import import_nnunet  # noqa: E402

MR = {"max": 1200.0, "mean": 310.0, "median": 290.0, "min": 0.0, "percentile_00_5": 20.0, "percentile_99_5": 800.0,
      "std": 150.0}


def case_folders(work):
    """Single-channel folders for the abdomen MR (3 mm isotropic): separate-z 3d_fullres with a masked
    z-score, a 2d configuration with CT normalisation, a ResidualEncoderUNet with a transpose."""
    ch, props = {"0": "MR"}, {"0": MR}
    out = {}
    p = mk.plain_plans(schemes=["ZScoreNormalization"], use_mask=[True], channels=ch, intensity=props)
    p["configurations"]["3d_fullres"]["spacing"] = [6.5, 2.0, 2.0]  # 6.5/2 > 3: separate z, order 0 along z
    p["configurations"]["2d"]["spacing"] = [2.5, 2.5]
    p["configurations"]["2d"]["normalization_schemes"] = ["CTNormalization"]
    p["configurations"]["2d"]["use_mask_for_norm"] = [False]
    ds = mk.dataset_json(channels=ch)
    base = os.path.join(work, "Dataset902_Cross")
    out["plain3d_sepz_zscore_mask_2folds"] = mk.write_model_folder(
        os.path.join(base, "nnUNetTrainer__nnUNetPlans__3d_fullres"), p, ds, "3d_fullres", folds=(0, 1))
    out["plain2d_ct"] = mk.write_model_folder(os.path.join(base, "nnUNetTrainer__nnUNetPlans__2d"), p, ds, "2d")
    pz = json.loads(json.dumps(p))
    pz["configurations"]["2d"]["normalization_schemes"] = ["ZScoreNormalization"]
    out["plain2d_regions_zscore"] = mk.write_model_folder(
        os.path.join(work, "Dataset903_Regions", "nnUNetTrainer__nnUNetPlans__2d"), pz,
        mk.dataset_json(channels=ch, regions=True), "2d", seed=11)
    r = mk.resenc_plans(schemes=["RescaleTo01Normalization"], use_mask=[False], channels=ch, intensity=props)
    r["configurations"]["3d_fullres"]["spacing"] = [2.4, 3.0, 3.6]  # after transpose_forward [2, 0, 1]
    r["configurations"]["3d_fullres"]["patch_size"] = [32, 16, 32]
    out["resenc_transposed_rescale"] = mk.write_model_folder(
        os.path.join(base, "nnUNetTrainer__nnUNetResEncUNetMPlans__3d_fullres"), r, ds, "3d_fullres")
    return out


def maxdiff(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    return float(np.abs(a - b).max()) if a.size else 0.0


def run_case(name, folder, image):
    from nnunetv2.imageio.nibabel_reader_writer import NibabelIO
    from nnunetv2.inference.export_prediction import convert_predicted_logits_to_segmentation_with_correct_shape
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    from nnunetv2.inference.sliding_window_prediction import compute_gaussian
    from nnunetv2.preprocessing.preprocessors.default_preprocessor import DefaultPreprocessor
    from acvl_utils.cropping_and_padding.padding import pad_nd_image

    res = {"case": name}
    pred = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=True, perform_everything_on_device=False,
                           device=torch.device("cpu"), verbose=False, allow_tqdm=False)
    pred.initialize_from_trained_model_folder(folder, use_folds=None, checkpoint_name="checkpoint_final.pth")
    pm, cm, ds = pred.plans_manager, pred.configuration_manager, pred.dataset_json

    # reading
    theirs_img, theirs_props = NibabelIO().read_images([image])
    mine_img, mine_spacing = ref.read_images_nibabel([image])
    res["read_max_abs_diff"] = maxdiff(theirs_img, mine_img)
    res["read_spacing_equal"] = list(theirs_props["spacing"]) == mine_spacing

    # preprocessing
    t0 = time.time()
    their_pre, _, their_props = DefaultPreprocessor(verbose=False).run_case_npy(
        theirs_img.copy(), None, {"spacing": theirs_props["spacing"]}, pm, cm, ds)
    _, _, meta, nets = import_nnunet(folder, None, return_networks=True)
    m = meta["nnunet"]
    my_pre, my_props = ref.preprocess(mine_img, mine_spacing, m)
    res["preprocessed_shape"] = list(my_pre.shape)
    res["preprocessed_max_abs_diff"] = maxdiff(their_pre, my_pre)
    res["bbox_equal"] = [list(map(int, b)) for b in their_props["bbox_used_for_cropping"]] == my_props["bbox_used_for_cropping"]

    # tile grid and Gaussian
    padded, _ = pad_nd_image(torch.from_numpy(their_pre), cm.patch_size, "constant", {"value": 0}, True, None)
    their_sl = pred._internal_get_sliding_window_slicers(padded.shape[1:])
    mine_sl = ref.tile_slicers(tuple(ref.pad_to_patch(my_pre, m["patch_size"])[0].shape[1:]), m["patch_size"], 0.5)
    res["tiles"] = len(mine_sl)
    res["tile_grid_equal"] = [tuple(s) for s in their_sl] == [tuple(s) for s in mine_sl]
    g_theirs = compute_gaussian(tuple(cm.patch_size), 1. / 8, 10, device=torch.device("cpu"))
    g_mine = ref.compute_gaussian(tuple(m["patch_size"]))
    res["gaussian_bit_equal"] = bool(torch.equal(g_theirs, g_mine)) and g_mine.dtype == torch.float16

    # aggregated logits: nnU-Net's networks and torch.load vs ours (own networks, own checkpoint reader)
    t1 = time.time()
    their_logits = pred.predict_logits_from_preprocessed_data(torch.from_numpy(their_pre))
    t2 = time.time()
    my_logits = ref.predict_logits(nets, my_pre, m)
    t3 = time.time()
    res["logits_dtype"] = [str(their_logits.dtype), str(my_logits.dtype)]
    res["logits_max_abs_diff"] = maxdiff(their_logits.float(), my_logits.float())
    res["logits_bit_equal"] = bool(torch.equal(their_logits, my_logits))
    res["logits_max_abs"] = float(their_logits.float().abs().max())
    # same preprocessed input for both, to separate the network/aggregation from preprocessing
    my_logits_on_theirs = ref.predict_logits(nets, their_pre, m)
    res["logits_same_input_bit_equal"] = bool(torch.equal(their_logits, my_logits_on_theirs))
    res["logits_same_input_max_abs_diff"] = maxdiff(their_logits.float(), my_logits_on_theirs.float())

    # export
    their_seg = convert_predicted_logits_to_segmentation_with_correct_shape(
        their_logits, pm, cm, pred.label_manager, their_props)
    my_seg, _ = ref.export(my_logits, my_props, m)
    my_seg_same, _ = ref.export(their_logits, my_props, m)
    res["labels_shape"] = list(my_seg.shape)
    res["labels_equal_pct"] = 100.0 * float((np.asarray(their_seg) == my_seg).mean()) if their_seg.shape == my_seg.shape else None
    res["labels_equal_pct_same_logits"] = 100.0 * float((np.asarray(their_seg) == my_seg_same).mean())
    res["labels_present"] = sorted(int(v) for v in np.unique(their_seg))
    # end to end through predict_single_npy_array
    e2e = pred.predict_single_npy_array(theirs_img.copy(), {"spacing": theirs_props["spacing"]}, None, None, False)
    # what an fp32 engine would give: the same steps with float32 accumulation
    fp32_logits = ref.predict_logits(nets, my_pre, m, accumulation_dtype=torch.float32)
    fp32_seg, _ = ref.export(fp32_logits, my_props, m)
    res["fp32_accumulation_logits_max_abs_diff"] = maxdiff(their_logits.float(), fp32_logits)
    res["fp32_accumulation_labels_differing_pct"] = 100.0 * float((np.asarray(their_seg) != fp32_seg).mean())
    res["predict_single_npy_array_vs_reference_labels_equal_pct"] = 100.0 * float((np.asarray(e2e) == my_seg).mean())
    res["seconds"] = {"nnunet_logits": round(t2 - t1, 1), "reference_logits": round(t3 - t2, 1),
                      "total": round(time.time() - t0, 1)}
    return res


def old_plans_layout_check():
    """models.nnunet_networks.architecture_of on plans written before the `architecture` block
    against nnU-Net's ConfigurationManager conversion of the same configuration."""
    import copy
    from nnunetv2.utilities.plans_handling.plans_handler import ConfigurationManager
    from models.nnunet_networks import architecture_of
    res = {"check": "old_plans_layout"}
    for kind, plans in (("PlainConvUNet", mk.plain_plans()), ("ResidualEncoderUNet", mk.resenc_plans())):
        conf = plans["configurations"]["3d_fullres"]
        a = conf.pop("architecture")
        ak = a["arch_kwargs"]
        conf.update({"UNet_class_name": kind, "UNet_base_num_features": 4, "unet_max_num_features": 16,
                     "n_conv_per_stage_encoder": ak.get("n_conv_per_stage", ak.get("n_blocks_per_stage")),
                     "n_conv_per_stage_decoder": ak["n_conv_per_stage_decoder"], "num_pool_per_axis": [2, 3, 3],
                     "pool_op_kernel_sizes": ak["strides"], "conv_kernel_sizes": ak["kernel_sizes"]})
        cm = ConfigurationManager(copy.deepcopy(conf))
        theirs = [cm.network_arch_class_name, cm.network_arch_init_kwargs, list(cm.network_arch_init_kwargs_req_import)]
        res[kind] = json.dumps(list(architecture_of(copy.deepcopy(conf)))) == json.dumps(theirs)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src_root")
    ap.add_argument("work")
    ap.add_argument("image")
    ap.add_argument("--case", action="append")
    a = ap.parse_args()
    sys.path.insert(0, HERE)
    import nnunet_env
    nnunet_env.setup(a.src_root)
    print(json.dumps(old_plans_layout_check()), flush=True)
    folders = case_folders(a.work)
    for name, folder in folders.items():
        if a.case and name not in a.case:
            continue
        r = run_case(name, folder, a.image)
        r["stubbed_modules"] = sorted(set(m.split(".")[0] for m in nnunet_env.STUBBED))
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
