#!/usr/bin/python3
"""Parity fixtures for the published architectures: each reference module (weights/models/)
with random weights and non-trivial batch-norm statistics, in eval mode, converted through the
real converter (weights/convert.py) to .vxm, plus its inputs and PyTorch's outputs.

OUTDIR/manifest.json: {"version": 1, "models": [{"name", "vxm", "inputs": [{"shape", "file"}],
"outputs": [{"shape", "file"}], "check": "argmax1" | "none", "tol_rel": 1e-4, "slabbed_pool": bool}]}; tensors are raw
little-endian float32 (the layout tests/common/fixtures.h reads).

Sizes: realistic input sizes where the case says so, reduced channel widths throughout, so the
scalar reference kernels finish in seconds (the published widths are for the fast backends).
"""
import json
import os
import sys
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "weights"))
import convert  # noqa: E402
import models  # noqa: E402

warnings.filterwarnings("ignore")

# name, architecture, build kwargs, input shapes, check, metadata
CASES = [
    ("unet3d_denoiser_w16", "unet3d_denoiser", dict(width=1 / 16), [(1, 1, 20, 48, 48)], "none",
     {"outputs": [{"name": "output", "kind": "image", "activation": "none"}]}),
    ("resnet3d18_w8", "resnet3d", dict(depth=18, width=1 / 8, num_classes=3), [(2, 1, 16, 48, 48)], "argmax1", {}),
    # Stem output 16x36x64x64 (9.4 MB): over the size where Conv+MaxPool runs in slabs.
    ("resnet3d18_w4_stem_slabs", "resnet3d", dict(depth=18, width=1 / 4, num_classes=3), [(1, 1, 72, 128, 128)],
     "argmax1", {}),
    ("resnet3d50_published_stem_w16", "resnet3d",
     dict(depth=50, width=1 / 16, num_classes=2, stem="published"), [(1, 1, 16, 48, 48)], "argmax1", {}),
    ("dual_encoder101_w16", "dual_encoder", dict(depth=101, width=1 / 16, num_outputs=2),
     [(1, 1, 16, 96, 96), (1, 1, 16, 96, 96)], "argmax1",
     {"inputs": [{"name": "input0", "sequence": "T1"}, {"name": "input1", "sequence": "STIR"}],
      "outputs": [{"name": "output", "kind": "logits", "classes": ["negative", "positive"],
                   "activation": "softmax"}], "gradcam_layer": None}),
    ("dual_encoder18_3out_w8", "dual_encoder", dict(depth=18, width=1 / 8, num_outputs=3, activation="sigmoid"),
     [(2, 1, 16, 48, 48), (2, 1, 16, 48, 48)], "none", {}),
    ("unet2d_b8", "unet2d", dict(base=8), [(1, 1, 128, 160)], "argmax1",
     {"outputs": [{"name": "output", "kind": "logits", "classes": ["background", "femoral head", "lesion"],
                   "activation": "softmax"}]}),
    ("unetpp2d_b4", "unetpp2d", dict(base=4), [(1, 1, 128, 160)], "argmax1", {}),
    ("attention_unet2d_b4", "attention_unet2d", dict(base=4), [(1, 1, 128, 160)], "argmax1", {}),
    ("hrnet2d_b8", "hrnet2d", dict(base=8), [(1, 1, 128, 160)], "argmax1", {}),
    ("resnet2d50_w8", "resnet2d", dict(width=1 / 8, in_channels=1, num_classes=3), [(2, 1, 128, 160)], "argmax1", {}),
]

# Cases whose engine run must take the slabbed Conv+MaxPool path (lib/ops/conv_pool.h).
SLABBED_POOL = {"resnet3d18_w4_stem_slabs"}


def randomise_bn(module, gen):
    for m in module.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.3)
            m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.2)


def save(path, t):
    t.detach().contiguous().numpy().astype("<f4").tofile(path)


def main(out):
    os.makedirs(out, exist_ok=True)
    only = set(os.environ.get("VX_MODELS_ONLY", "").split(",")) - {""}
    manifest = {"version": 1, "models": []}
    for i, (name, arch, kw, shapes, check, meta) in enumerate(CASES):
        if only and name not in only:
            continue
        torch.manual_seed(1000 + i)
        gen = torch.Generator().manual_seed(2000 + i)
        model = models.build(arch, **kw)
        with torch.no_grad():
            randomise_bn(model, gen)
        model.eval()
        inputs = tuple(torch.randn(s, generator=gen) for s in shapes)
        with torch.no_grad():
            ref = model(*inputs)
        meta = dict(meta, architecture=arch)
        if meta.get("gradcam_layer", 0) is None:
            meta.pop("gradcam_layer")
        vxm_path = os.path.join(out, name + ".vxm")
        convert.convert_torch(model, inputs, vxm_path, metadata=meta)
        entry = {"name": name, "vxm": name + ".vxm", "check": check, "tol_rel": 1e-4, "inputs": [], "outputs": [],
                 "slabbed_pool": name in SLABBED_POOL}
        for k, t in enumerate(inputs):
            f = f"{name}.in{k}.bin"
            save(os.path.join(out, f), t)
            entry["inputs"].append({"shape": list(t.shape), "file": f})
        f = f"{name}.out0.bin"
        save(os.path.join(out, f), ref)
        entry["outputs"].append({"shape": list(ref.shape), "file": f})
        manifest["models"].append(entry)
        print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, output {list(ref.shape)}, "
              f"max|ref| {ref.abs().max().item():.3g}")
    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
