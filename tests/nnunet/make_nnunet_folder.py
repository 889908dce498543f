"""Builds nnU-Net v2 results folders the way nnU-Net writes them, with random weights, for tests:

    DatasetNNN_Name/<trainer>__<plans>__<configuration>/
        dataset.json  plans.json  fold_K/checkpoint_final.pth

plans.json as ExperimentPlanner.plan_experiment writes it (top-level keys, per-configuration
keys, `architecture` with network_class_name / arch_kwargs / _kw_requires_import), dataset.json
as nnU-Net's dataset conversion writes it, checkpoints as nnUNetTrainer.save_checkpoint does.

    make_plain_folders(root)   -> {"3d_fullres": dir, "2d": dir}   PlainConvUNet, spacing 3 x 1 x 1 mm
    make_resenc_folder(root)   -> dir                              ResidualEncoderUNet
"""
import json
import os

import torch

from models.nnunet_networks import build_from_plans
from nnunet.importer import label_info
from nnunet_checkpoint_writer import save_nnunet_checkpoint

IMPORTS = ["conv_op", "norm_op", "dropout_op", "nonlin"]
# A channel per normalisation scheme by default: CT clip+scale, z-score.
CHANNELS = {"0": "CT", "1": "T1"}
SCHEMES = ["CTNormalization", "ZScoreNormalization"]
INTENSITY = {"0": {"max": 1800.0, "mean": 60.5, "median": 55.0, "min": -1024.0, "percentile_00_5": -150.0,
                   "percentile_99_5": 420.0, "std": 95.25},
             "1": {"max": 900.0, "mean": 300.0, "median": 280.0, "min": 0.0, "percentile_00_5": 10.0,
                   "percentile_99_5": 800.0, "std": 120.0}}
RESAMPLING = {
    "resampling_fn_data": "resample_data_or_seg_to_shape",
    "resampling_fn_seg": "resample_data_or_seg_to_shape",
    "resampling_fn_data_kwargs": {"is_seg": False, "order": 3, "order_z": 0, "force_separate_z": None},
    "resampling_fn_seg_kwargs": {"is_seg": True, "order": 1, "order_z": 0, "force_separate_z": None},
    "resampling_fn_probabilities": "resample_data_or_seg_to_shape",
    "resampling_fn_probabilities_kwargs": {"is_seg": False, "order": 1, "order_z": 0, "force_separate_z": None},
}


def _arch(cls, dim, features, kernels, strides, encoder_key, n_enc, n_dec):
    return {
        "network_class_name": f"dynamic_network_architectures.architectures.unet.{cls}",
        "arch_kwargs": {
            "n_stages": len(features), "features_per_stage": features,
            "conv_op": f"torch.nn.modules.conv.Conv{dim}d", "kernel_sizes": kernels, "strides": strides,
            encoder_key: n_enc, "n_conv_per_stage_decoder": n_dec, "conv_bias": True,
            "norm_op": f"torch.nn.modules.instancenorm.InstanceNorm{dim}d",
            "norm_op_kwargs": {"eps": 1e-05, "affine": True}, "dropout_op": None, "dropout_op_kwargs": None,
            "nonlin": "torch.nn.LeakyReLU", "nonlin_kwargs": {"inplace": True}},
        "_kw_requires_import": IMPORTS,
    }


def _configuration(identifier, patch, spacing, median, arch, schemes, use_mask):
    c = {"data_identifier": identifier, "preprocessor_name": "DefaultPreprocessor", "batch_size": 2,
         "patch_size": patch, "median_image_size_in_voxels": median, "spacing": spacing,
         "normalization_schemes": schemes, "use_mask_for_norm": use_mask}
    c.update(json.loads(json.dumps(RESAMPLING)))
    c["architecture"] = arch
    c["batch_dice"] = False
    return c


def plain_plans(schemes=SCHEMES, use_mask=None, channels=CHANNELS, intensity=INTENSITY):
    use_mask = use_mask if use_mask is not None else [False] * len(schemes)
    a3 = _arch("PlainConvUNet", 3, [4, 8, 16, 16], [[1, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3]],
               [[1, 1, 1], [1, 2, 2], [2, 2, 2], [2, 2, 2]], "n_conv_per_stage", [2, 2, 2, 2], [2, 2, 2])
    a2 = _arch("PlainConvUNet", 2, [4, 8, 16], [[3, 3], [3, 3], [3, 3]], [[1, 1], [2, 2], [2, 2]],
               "n_conv_per_stage", [2, 2, 2], [2, 2])
    return {
        "dataset_name": "Dataset901_VoxTest", "plans_name": "nnUNetPlans",
        "original_median_spacing_after_transp": [3.0, 1.0, 1.0],
        "original_median_shape_after_transp": [40, 96, 96],
        "image_reader_writer": "NibabelIOWithReorient",
        "transpose_forward": [0, 1, 2], "transpose_backward": [0, 1, 2],
        "configurations": {
            "2d": _configuration("nnUNetPlans_2d", [32, 32], [1.0, 1.0], [96, 96], a2, schemes, use_mask),
            "3d_fullres": _configuration("nnUNetPlans_3d_fullres", [16, 32, 32], [3.0, 1.0, 1.0], [40, 96, 96], a3,
                                         schemes, use_mask),
        },
        "experiment_planner_used": "ExperimentPlanner", "label_manager": "LabelManager",
        "foreground_intensity_properties_per_channel": {k: dict(intensity[k]) for k in channels},
    }


def resenc_plans(schemes=SCHEMES, use_mask=None, channels=CHANNELS, intensity=INTENSITY):
    use_mask = use_mask if use_mask is not None else [False] * len(schemes)
    a = _arch("ResidualEncoderUNet", 3, [4, 8, 16, 16], [[3, 3, 3]] * 4,
              [[1, 1, 1], [2, 2, 2], [2, 2, 2], [1, 2, 2]], "n_blocks_per_stage", [1, 3, 2, 2], [1, 1, 1])
    p = plain_plans(schemes, use_mask, channels, intensity)
    p["plans_name"] = "nnUNetResEncUNetMPlans"
    p["original_median_spacing_after_transp"] = [1.5, 1.2, 1.2]
    p["transpose_forward"], p["transpose_backward"] = [2, 0, 1], [1, 2, 0]
    p["experiment_planner_used"] = "nnUNetPlannerResEncM"
    p["configurations"] = {"3d_fullres": _configuration("nnUNetResEncUNetMPlans_3d_fullres", [16, 32, 32],
                                                        [1.5, 1.2, 1.2], [64, 80, 80], a, schemes, use_mask)}
    return p


def dataset_json(channels=CHANNELS, regions=False):
    d = {"channel_names": dict(channels), "numTraining": 12, "file_ending": ".nii.gz",
         "name": "VoxTest", "overwrite_image_reader_writer": "NibabelIOWithReorient"}
    if regions:
        d["labels"] = {"background": 0, "whole": [1, 2], "core": 2}
        d["regions_class_order"] = [1, 2]
    else:
        d["labels"] = {"background": 0, "liver": 1, "spleen": 2}
    return d


def randomise(net, seed):
    """Random weights with non-trivial normalisation affine parameters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if ".norm." in name and name.endswith("weight"):
                p.copy_(1 + 0.3 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            else:
                fan_in = max(1, p[0].numel())
                p.copy_(torch.randn(p.shape, generator=g) * (2.0 / fan_in) ** 0.5)
    return net


def write_model_folder(folder, plans, ds, configuration, folds=(0,), trainer="nnUNetTrainer", mirror_axes=None,
                       seed=0):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "plans.json"), "w") as f:
        json.dump(plans, f, sort_keys=False, indent=4)
    with open(os.path.join(folder, "dataset.json"), "w") as f:
        json.dump(ds, f, sort_keys=False, indent=4)
    dim = len(plans["configurations"][configuration]["patch_size"])
    mirror_axes = tuple(range(dim)) if mirror_axes is None else mirror_axes
    for k, fold in enumerate(folds):
        net = build_from_plans(plans, configuration, len(ds["channel_names"]), label_info(ds)["num_segmentation_heads"])
        randomise(net, seed + 1000 * k)
        d = os.path.join(folder, f"fold_{fold}")
        os.makedirs(d, exist_ok=True)
        save_nnunet_checkpoint(os.path.join(d, "checkpoint_final.pth"), net, plans, configuration, fold, ds,
                               mirror_axes=mirror_axes, trainer_name=trainer)
    return folder


def make_plain_folders(root, folds=(0,), **kw):
    plans, ds = plain_plans(**kw.pop("plans_kw", {})), dataset_json(**kw.pop("dataset_kw", {}))
    base = os.path.join(root, "Dataset901_VoxTest")
    return {c: write_model_folder(os.path.join(base, f"nnUNetTrainer__nnUNetPlans__{c}"), plans, ds, c, folds, **kw)
            for c in ("3d_fullres", "2d")}


def make_resenc_folder(root, folds=(0,), **kw):
    plans, ds = resenc_plans(**kw.pop("plans_kw", {})), dataset_json(**kw.pop("dataset_kw", {}))
    return write_model_folder(os.path.join(root, "Dataset901_VoxTest", "nnUNetTrainer__nnUNetResEncUNetMPlans__3d_fullres"),
                              plans, ds, "3d_fullres", folds, **kw)


if __name__ == "__main__":
    import sys
    print(make_plain_folders(sys.argv[1]), make_resenc_folder(sys.argv[1]))
