"""nnU-Net v2 results folder -> one .vxm holding every requested fold and what inference needs.

    python3 weights/convert.py --from-nnunet MODEL_FOLDER OUT.vxm [--configuration 3d_fullres]
                               [--folds 0,1,2,3,4 | all] [--checkpoint checkpoint_final.pth]

MODEL_FOLDER is what nnU-Net trains into (<trainer>__<plans>__<configuration>/ with dataset.json,
plans.json and fold_K/<checkpoint>). Checkpoints are read through nnunet/checkpoint.py (no pickled
code runs), each fold's network is rebuilt from plans.json (models/nnunet_networks.py), loaded with
strict=True, exported with torch.onnx.export (opset 13) at [1, C, *patch_size] and converted.
The folds share one graph input `input` and each has its own output `logits_fold_<K>` (node and
weight names prefixed `fold_<K>/`); see weights/FORMAT.md, "nnU-Net models". metadata["nnunet"]
holds the preprocessing, sliding-window and export parameters (keys documented in FORMAT.md).
"""
import json
import os

import numpy as np

ANISO_THRESHOLD = 3  # nnunetv2.configuration.ANISO_THRESHOLD: separate-z resampling above this ratio
FORMAT_VERSION = 1


class NnunetImportError(ValueError):
    pass


def label_info(dataset_json):
    """nnU-Net's LabelManager: regions when any label is a list/tuple of more than one value; the
    heads are the foreground regions (sigmoid) or all label values (softmax)."""
    labels = dataset_json.get("labels")
    if not isinstance(labels, dict) or "background" not in labels:
        raise NnunetImportError("dataset.json: 'labels' must be an object with a 'background' entry")
    if isinstance(labels["background"], (list, tuple)) or int(labels["background"]) != 0:
        raise NnunetImportError(f"dataset.json: background label must be 0, not {labels['background']!r}")
    has_regions = any(isinstance(v, (list, tuple)) and len(v) > 1 for v in labels.values())
    all_labels = sorted({int(x) for k, v in labels.items() if k != "ignore"
                         for x in (v if isinstance(v, (list, tuple)) else [v])})
    info = {"has_regions": has_regions, "labels": labels, "all_labels": all_labels,
            "ignore_label": labels.get("ignore")}
    if has_regions:
        order = dataset_json.get("regions_class_order")
        regions = [list(v) if isinstance(v, (list, tuple)) else [int(v)] for k, v in labels.items()
                   if k != "ignore" and not (set(v if isinstance(v, (list, tuple)) else [v]) == {0})]
        if order is None or len(order) != len(regions):
            raise NnunetImportError(f"dataset.json: region-based labels need regions_class_order with "
                                    f"{len(regions)} entries, got {order!r}")
        info.update(regions=regions, regions_class_order=list(order), num_segmentation_heads=len(regions),
                    inference_nonlin="sigmoid")
    else:
        info.update(num_segmentation_heads=len(all_labels), inference_nonlin="softmax")
    return info


def _fold_dirs(folder, checkpoint, folds):
    if folds is None:  # nnUNetPredictor.auto_detect_available_folds
        found = sorted(d[5:] for d in os.listdir(folder) if d.startswith("fold_")
                       and os.path.isfile(os.path.join(folder, d, checkpoint)))
        if not found:
            raise NnunetImportError(f"{folder}: no fold_*/{checkpoint}")
        folds = [f if f == "all" else int(f) for f in found]
        folds.sort(key=lambda f: (f == "all", f if f != "all" else 0))
    out = []
    for f in folds:
        p = os.path.join(folder, f"fold_{f}", checkpoint)
        if not os.path.isfile(p):
            raise NnunetImportError(f"fold {f}: {p} does not exist")
        out.append((f, p))
    return out


def _load_json(folder, name):
    p = os.path.join(folder, name)
    try:
        with open(p) as f:
            return json.load(f)
    except FileNotFoundError:
        raise NnunetImportError(f"{folder}: {name} is missing (not an nnU-Net results folder?)") from None
    except json.JSONDecodeError as e:
        raise NnunetImportError(f"{p}: not valid JSON: {e}") from None


def nnunet_metadata(plans, dataset_json, conf_name, conf, folds, ckpt0, labels):
    channels = dataset_json.get("channel_names", dataset_json.get("modality"))
    if not isinstance(channels, dict) or not channels:
        raise NnunetImportError("dataset.json: channel_names is missing")
    schemes, use_mask = conf["normalization_schemes"], conf["use_mask_for_norm"]
    if len(schemes) != len(channels) or len(use_mask) != len(channels):
        raise NnunetImportError(f"plans configuration {conf_name}: {len(schemes)} normalization schemes / "
                                f"{len(use_mask)} use_mask_for_norm entries for {len(channels)} channels")
    fg = plans.get("foreground_intensity_properties_per_channel",
                   plans.get("foreground_intensity_properties_by_modality", {}))
    chans = []
    for i, key in enumerate(sorted(channels, key=int)):
        chans.append({"index": int(key), "name": channels[key], "normalization": schemes[i],
                      "use_mask_for_norm": bool(use_mask[i]), "intensity_properties": fg.get(str(i))})
        if schemes[i] == "CTNormalization" and fg.get(str(i)) is None:
            raise NnunetImportError(f"channel {i}: CTNormalization needs foreground_intensity_properties_per_channel")
    resampling = {k: {"fn": conf.get(f"resampling_fn_{k}"), "kwargs": conf.get(f"resampling_fn_{k}_kwargs")}
                  for k in ("data", "seg", "probabilities")}
    mirror = ckpt0.get("inference_allowed_mirroring_axes")
    return {
        "format_version": FORMAT_VERSION,
        "configuration": conf_name,
        "folds": [f for f, _ in folds],
        "outputs": [f"logits_fold_{f}" for f, _ in folds],
        "trainer_name": ckpt0.get("trainer_name"),
        "channels": chans,
        "file_ending": dataset_json.get("file_ending"),
        "image_reader_writer": dataset_json.get("overwrite_image_reader_writer", plans.get("image_reader_writer")),
        "spacing": list(conf["spacing"]),
        "patch_size": list(conf["patch_size"]),
        "transpose_forward": list(plans["transpose_forward"]),
        "transpose_backward": list(plans["transpose_backward"]),
        "allowed_mirroring_axes": None if mirror is None else [int(a) for a in mirror],
        "labels": labels["labels"],
        "has_regions": labels["has_regions"],
        "regions": labels.get("regions"),
        "regions_class_order": labels.get("regions_class_order"),
        "num_segmentation_heads": labels["num_segmentation_heads"],
        "inference_nonlin": labels["inference_nonlin"],
        "resampling": resampling,
        "separate_z_anisotropy_threshold": ANISO_THRESHOLD,
        "crop_to_nonzero": True,
        # nnUNetPredictor's defaults (predict_from_raw_data.py) that the engine reproduces
        "sliding_window": {"tile_step_size": 0.5, "gaussian_sigma_scale": 0.125, "gaussian_value_scaling_factor": 10,
                           "accumulation_dtype": "float16", "pad_mode": "constant", "pad_value": 0},
        "source": {k: plans.get(k) for k in ("dataset_name", "plans_name", "experiment_planner_used", "label_manager",
                                             "original_median_spacing_after_transp",
                                             "original_median_shape_after_transp")}
                  | {"data_identifier": conf.get("data_identifier"), "preprocessor_name": conf.get("preprocessor_name"),
                     "network_class_name": conf.get("architecture", {}).get("network_class_name",
                                                                            conf.get("UNet_class_name")),
                     "current_epoch": ckpt0.get("current_epoch")},
    }


def _prefixed(graph, weights, prefix):
    """The fold's node and tensor names prefixed, except the shared input and the fold's outputs."""
    keep = {i["name"] for i in graph["inputs"]} | set(graph["outputs"]) | {""}

    def name(n):  # ONNX node names from torch start with "/": no double slash
        return prefix + n[1:] if n.startswith("/") else prefix + n
    ren = {n: name(n) for n in weights}
    for node in graph["nodes"]:
        ren.update({o: name(o) for o in node["outputs"] if o not in keep})
    nodes = [{"name": name(n["name"]), "op": n["op"], "attrs": n["attrs"],
              "inputs": [ren.get(i, i) for i in n["inputs"]], "outputs": [ren.get(o, o) for o in n["outputs"]]}
             for n in graph["nodes"]]
    return nodes, {ren[k]: v for k, v in weights.items()}


def import_nnunet(folder, out_path=None, configuration=None, folds=None, checkpoint="checkpoint_final.pth",
                  compress=False, return_networks=False):
    """Returns (graph, weights, metadata[, networks]); writes out_path when given."""
    import torch
    import convert
    import vxm
    from models.nnunet_networks import NnunetArchitectureError, build_from_plans, resolve_configuration
    from nnunet.checkpoint import load_checkpoint

    plans, dataset_json = _load_json(folder, "plans.json"), _load_json(folder, "dataset.json")
    labels = label_info(dataset_json)
    fold_paths = _fold_dirs(folder, checkpoint, folds)
    nodes, weights, outputs, nets = [], {}, [], []
    conf_name = ckpt0 = None
    for f, path in fold_paths:
        ck = load_checkpoint(path)
        for key in ("network_weights", "init_args", "trainer_name"):
            if key not in ck:
                raise NnunetImportError(f"{path}: not an nnU-Net checkpoint (no '{key}')")
        this_conf = ck["init_args"].get("configuration")
        if configuration is not None and this_conf != configuration:
            raise NnunetImportError(f"{path}: trained as configuration {this_conf!r}, not {configuration!r}")
        if conf_name is not None and this_conf != conf_name:
            raise NnunetImportError(f"{path}: configuration {this_conf!r} differs from fold "
                                    f"{fold_paths[0][0]}'s {conf_name!r}")
        if ckpt0 is None:
            conf_name, ckpt0 = this_conf, ck
            conf = resolve_configuration(plans, conf_name)
            if conf.get("previous_stage") is not None:
                raise NnunetImportError(f"configuration {conf_name!r} is a cascade stage (previous_stage "
                                        f"{conf['previous_stage']!r}); cascades are not supported")
            n_in = len(dataset_json.get("channel_names", dataset_json.get("modality", {})))
        try:
            net = build_from_plans(plans, conf_name, n_in, labels["num_segmentation_heads"])
        except NnunetArchitectureError as e:
            raise NnunetImportError(str(e)) from None
        try:
            net.load_state_dict(ck["network_weights"], strict=True)
        except RuntimeError as e:
            raise NnunetImportError(f"{path}: network_weights do not fit the network plans.json describes: "
                                    f"{str(e).splitlines()[0]} {str(e)[:400]}") from None
        net.eval()
        x = torch.zeros([1, n_in] + list(conf["patch_size"]))
        g, w, _ = convert.convert_torch(net, x, None, input_names=["input"], output_names=[f"logits_fold_{f}"])
        n, w = _prefixed(g, w, f"fold_{f}/")
        nodes += n
        weights.update(w)
        outputs += g["outputs"]
        nets.append(net)
    graph = {"inputs": [{"name": "input", "shape": [1, n_in] + list(conf["patch_size"])}], "outputs": outputs,
             "nodes": nodes}
    nn_meta = nnunet_metadata(plans, dataset_json, conf_name, conf, fold_paths, ckpt0, labels)
    meta = {"name": f"{plans.get('dataset_name', 'nnunet')}__{plans.get('plans_name', '')}__{conf_name}",
            "architecture": "nnunet", "producer": convert.PRODUCER,
            "inputs": [{"name": "input", "shape": graph["inputs"][0]["shape"],
                        "spacing": nn_meta["spacing"]}],
            "outputs": [{"name": o, "kind": "logits", "fold": f, "activation": nn_meta["inference_nonlin"],
                         "classes": _class_names(labels)} for o, (f, _) in zip(outputs, fold_paths)],
            "nnunet": nn_meta}
    if out_path:
        vxm.write(out_path, graph, weights, meta, compress=compress)
    return (graph, weights, meta, nets) if return_networks else (graph, weights, meta)


def _class_names(labels):
    if labels["has_regions"]:
        return [k for k, v in labels["labels"].items() if k != "ignore" and isinstance(v, (list, tuple, int))
                and not (set(v if isinstance(v, (list, tuple)) else [v]) == {0})]
    by_value = {}
    for k, v in labels["labels"].items():
        if k != "ignore" and not isinstance(v, (list, tuple)):
            by_value.setdefault(int(v), k)
    return [by_value.get(v, str(v)) for v in labels["all_labels"]]


def parse_folds(text):
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    try:
        return [t if t == "all" else int(t) for t in items]
    except ValueError:
        raise NnunetImportError(f"--folds {text!r}: expected integers or 'all', comma-separated") from None


def main(argv):
    import argparse
    p = argparse.ArgumentParser(prog="convert.py --from-nnunet",
                                description="Import an nnU-Net v2 results folder into one .vxm (every requested fold).")
    p.add_argument("--from-nnunet", dest="folder", required=True, metavar="MODEL_FOLDER")
    p.add_argument("out")
    p.add_argument("--configuration", help="must match the checkpoints' configuration (default: theirs)")
    p.add_argument("--folds", help="comma-separated fold numbers or 'all' (default: every fold_* with a checkpoint)")
    p.add_argument("--checkpoint", default="checkpoint_final.pth")
    p.add_argument("--compress", action="store_true")
    args = p.parse_args(argv)
    from models.nnunet_networks import NnunetArchitectureError
    from nnunet.checkpoint import CheckpointError
    try:
        graph, weights, meta = import_nnunet(args.folder, args.out, args.configuration, parse_folds(args.folds),
                                             args.checkpoint, args.compress)
    except (NnunetImportError, CheckpointError, NnunetArchitectureError) as e:
        print(f"convert.py: error: {e}", file=sys.stderr)
        return 1
    n = sum(int(np.prod(w.shape)) for w in weights.values())
    print(f"wrote {args.out}: configuration {meta['nnunet']['configuration']}, folds {meta['nnunet']['folds']}, "
          f"{len(graph['nodes'])} nodes, {n} weights")
    return 0


import sys  # noqa: E402
