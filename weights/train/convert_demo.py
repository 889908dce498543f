#!/usr/bin/python3
"""Convert the three trained demo models (weights/train/out/*.pt) to weights/demo_*.vxm with
weights/convert.py (PyTorch -> ONNX -> .vxm), adding the metadata of weights/FORMAT.md.
Run: /usr/bin/python3 weights/train/convert_demo.py [--src weights/train/out] [--dst weights]
"""
import argparse
import json
import os

import common  # noqa: F401  (sets sys.path)
import data
import torch
from convert import convert_torch
from models import build

LICENCE = ("Demonstration weights, trained on synthetic lesions in public MRI (examples/data, "
           "MIT / BSD-2-Clause / Apache-2.0 sources). NOT for diagnosis.")


def load(src, name):
    with open(os.path.join(src, f"{name}.config.json")) as f:
        cfg = json.load(f)
    kw = dict(cfg["kwargs"])
    if cfg["arch"] == "unet3d_denoiser":
        kw["in_channels"] = 1
    m = build(cfg["arch"], **kw)
    m.load_state_dict(torch.load(os.path.join(src, f"{name}.pt")))
    return m.eval(), cfg


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--src", default=os.path.join(common.HERE, "out"))
    p.add_argument("--dst", default=common.WEIGHTS)
    a = p.parse_args()
    D, H, W = data.GRID
    prep = {"source_grid": list(data.GRID), "note": "the demo nets were trained on 16x64x64 crops "
            "resampled (trilinear) from the examples/data volumes; see weights/train/data.py"}

    m, cfg = load(a.src, "demo_denoiser")
    meta = {"architecture": cfg["arch"], "description": "demo 3D U-Net denoiser/homogeniser (image -> image)",
            "licence": LICENCE, "config": cfg["kwargs"],
            "inputs": [{"name": "input", "sequence": "T1 or STIR", "shape": [1, 1, D, H, W],
                        "normalisation": {"method": "zscore"}}],
            "outputs": [{"name": "output", "kind": "image", "activation": "none"}],
            "preprocessing": prep | {"intensity": "z-score over the whole volume (output is in the same z units)"}}
    convert_torch(m, torch.zeros(1, 1, D, H, W), os.path.join(a.dst, "demo_denoiser.vxm"),
                  metadata=meta | {"name": "demo_denoiser"})

    m, cfg = load(a.src, "demo_classifier")
    meta = {"architecture": cfg["arch"], "description": "demo dual-encoder 3D ResNet lesion classifier",
            "licence": LICENCE, "config": cfg["kwargs"],
            "inputs": [{"name": "t1", "sequence": "T1", "shape": [1, 1, D, H, W], "normalisation": {"method": "max"}},
                       {"name": "stir", "sequence": "STIR", "shape": [1, 1, D, H, W],
                        "normalisation": {"method": "max"}}],
            "outputs": [{"name": "logits", "kind": "logits", "classes": cfg["class_names"],
                         "activation": "softmax"}],
            "preprocessing": prep | {"intensity": cfg["preprocessing"]},
            "gradcam_module": cfg["gradcam_layer"]}
    out = os.path.join(a.dst, "demo_classifier.vxm")
    graph, _, _ = convert_torch(m, (torch.zeros(1, 1, D, H, W), torch.zeros(1, 1, D, H, W)), out,
                                metadata=meta | {"name": "demo_classifier"}, input_names=["t1", "stir"],
                                output_names=["logits"])
    # the encoder output (= last encoder stage, layer4) once per sequence: the inputs of the two
    # per-sequence max pools, in call order (T1 first, then STIR)
    pools = sorted((n for n in graph["nodes"] if n["name"].startswith("/seq_pool")), key=lambda n: n["name"])
    cams = [n["inputs"][0] for n in pools]
    assert len(cams) == 2, cams
    meta["gradcam_layer"] = cams[1]
    meta["gradcam_layers_per_sequence"] = {"T1": cams[0], "STIR": cams[1]}
    convert_torch(m, (torch.zeros(1, 1, D, H, W), torch.zeros(1, 1, D, H, W)), out,
                  metadata=meta | {"name": "demo_classifier"}, input_names=["t1", "stir"], output_names=["logits"])

    m, cfg = load(a.src, "demo_segmenter")
    meta = {"architecture": cfg["arch"], "description": "demo 2D U-Net lesion segmenter (slice-wise)",
            "licence": LICENCE, "config": cfg["kwargs"],
            "inputs": [{"name": "input", "sequence": "STIR", "shape": [1, 1, H, W], "normalisation": {"method": "max"}}],
            "outputs": [{"name": "logits", "kind": "logits", "classes": cfg["class_names"], "activation": "softmax"}],
            "preprocessing": prep | {"intensity": cfg["preprocessing"]}}
    convert_torch(m, torch.zeros(1, 1, H, W), os.path.join(a.dst, "demo_segmenter.vxm"),
                  metadata=meta | {"name": "demo_segmenter"}, output_names=["logits"])
    for n in ("demo_denoiser", "demo_classifier", "demo_segmenter"):
        print(n, os.path.getsize(os.path.join(a.dst, f"{n}.vxm")), "bytes")
    print("gradcam tensors (T1, STIR):", cams)


if __name__ == "__main__":
    main()
