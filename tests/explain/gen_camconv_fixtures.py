#!/usr/bin/python3
"""Grad-CAM / Grad-CAM++ parity on CONVERTED models (the path users take): each reference
architecture (weights/models/) with random weights and non-trivial batch-norm statistics, in
eval mode, converted by weights/convert.py to .vxm with metadata `gradcam_layer` (and, for the
dual encoder, `gradcam_layers_per_sequence`) naming the converted tensor of the hooked module;
plus PyTorch autograd Grad-CAM and Grad-CAM++ maps computed as lib/explain/gradcam.h documents:
raw logit of the target class (segmentation: summed over the voxels predicted as that class),
w_c = spatial mean of the gradient (Grad-CAM++: sum of relu(g) * g^2 / (2 g^2 + sum(A) g^3 + 1e-6)),
cam = sum_c w_c A_c, resized (bi/trilinear, align_corners=True) to the input, clamped at 0,
normalised by (m - min) / (max - min).

Cases: a 2-D ResNet-50 (width 1/8), a 3-D ResNet-18 (width 1/8), the dual encoder at the
published ResNet-101 depth and stem (width 1/16; one forward hook that records EVERY call, so
both the T1 and the STIR application are kept), and a 2-D U-Net (base 4, hook on the bottom
double conv, segmentation Grad-CAM).

OUTDIR/manifest.json: {"version": 1, "models": [{"name", "vxm", "class", "score",
"layers": [converted tensor per application], "inputs": [{"name", "shape", "file"}],
"gradcam": [{"shape", "file"}], "gradcampp": [...], "raw_max": [...]}]}; tensors are raw
little-endian float32.
"""
import json
import os
import sys
import warnings

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "weights"))
import convert  # noqa: E402
import models  # noqa: E402
import vxm  # noqa: E402

warnings.filterwarnings("ignore")
torch.set_num_threads(2)


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


def normalise(cam, size):
    mode = "bilinear" if cam.dim() == 4 else "trilinear"
    m = F.interpolate(cam, size=size, mode=mode, align_corners=True).clamp(min=0)
    lo, hi = m.min(), m.max()
    return ((m - lo) / (hi - lo) if hi > lo else torch.zeros_like(m)), float(hi)


def cams(acts, grads):
    axes = tuple(range(2, acts.dim()))
    w = grads.mean(dim=axes, keepdim=True)
    g2 = grads ** 2
    g3 = g2 * grads
    suma = acts.sum(dim=axes, keepdim=True)
    alpha = g2 / (2 * g2 + suma * g3 + 1e-6)
    alpha = torch.where(grads != 0, alpha, torch.zeros_like(alpha))
    wpp = (torch.clamp(grads, min=0) * alpha).sum(dim=axes, keepdim=True)
    return (w * acts).sum(1, keepdim=True), (wpp * acts).sum(1, keepdim=True)


def classify(out):
    cls = int(out[0].argmax())
    return out[0, cls], cls


def segment(out):
    # the engine's default class for segmentation: argmax of the spatially averaged logits
    cls = int(out[0].flatten(1).mean(1).argmax())
    region = (out.argmax(1) == cls).float()
    assert region.sum() > 0, "empty predicted region: the case would be vacuous"
    return (out[0, cls] * region[0]).sum(), cls


def layer_tensors(graph, finder):
    return finder({n["name"]: n for n in graph["nodes"]})


# name, architecture, build kwargs, input names + shapes, hooked module (getter), score,
# converted tensor(s) of the hooked module: the inputs of the node(s) right after it
CASES = [
    ("resnet2d50_w8", "resnet2d", dict(width=1 / 8, in_channels=1, num_classes=3), [("x", (1, 1, 64, 64))],
     lambda m: m.layer4, classify, "/pool/"),
    ("resnet3d18_w8", "resnet3d", dict(depth=18, width=1 / 8, num_classes=3), [("x", (1, 1, 16, 48, 48))],
     lambda m: m.layer4, classify, "/head/head.0/"),
    ("dual_encoder101_w16", "dual_encoder", dict(depth=101, width=1 / 16, num_outputs=2),
     [("t1", (1, 1, 16, 48, 48)), ("stir", (1, 1, 16, 48, 48))], lambda m: m.encoder.layer4, classify, "/seq_pool"),
    ("unet2d_b4", "unet2d", dict(base=4), [("x", (1, 1, 64, 64))], lambda m: m.bottom, segment, "/ups.0/"),
]


def main(out):
    os.makedirs(out, exist_ok=True)
    manifest = {"version": 1, "models": []}
    for i, (name, arch, kw, ins, module_of, score_fn, next_prefix) in enumerate(CASES):
        torch.manual_seed(3000 + i)
        gen = torch.Generator().manual_seed(4000 + i)
        model = models.build(arch, **kw)
        with torch.no_grad():
            randomise_bn(model, gen)
        model.eval()
        inputs = tuple(torch.randn(s, generator=gen) for _, s in ins)

        # PyTorch autograd Grad-CAM: one forward hook that records every call of the module
        acts, grads = [], {}

        def hook(_m, _i, o):
            k = len(acts)
            acts.append(o)
            o.register_hook(lambda g, k=k: grads.__setitem__(k, g))

        h = module_of(model).register_forward_hook(hook)
        logits = model(*inputs)
        score, cls = score_fn(logits)
        score.backward()
        h.remove()
        assert len(grads) == len(acts) == len(ins if arch == "dual_encoder" else ins[:1]), (len(acts), len(grads))

        # convert, find the converted tensors of the hooked module, write the .vxm naming them
        vxm_path = os.path.join(out, name + ".vxm")
        with torch.no_grad():
            graph, weights, meta = convert.convert_torch(model, inputs, None, input_names=[n for n, _ in ins],
                                                         metadata={"architecture": arch, "name": name})
        nxt = sorted((n for n in graph["nodes"] if n["name"].startswith(next_prefix)), key=lambda n: n["name"])
        layers = [n["inputs"][0] for n in nxt]
        assert len(layers) == len(acts), (next_prefix, [n["name"] for n in nxt])
        meta["gradcam_layer"] = layers[-1]
        if arch == "dual_encoder":
            meta["gradcam_layers_per_sequence"] = {"T1": layers[0], "STIR": layers[1]}
        vxm.write(vxm_path, graph, weights, meta)

        entry = {"name": name, "vxm": name + ".vxm", "class": cls, "score": float(score), "layers": layers,
                 "inputs": [], "gradcam": [], "gradcampp": [], "raw_max": []}
        for (n, s), t in zip(ins, inputs):
            f = f"{name}.{n}.bin"
            save(os.path.join(out, f), t)
            entry["inputs"].append({"name": n, "shape": list(s), "file": f})
        for k, a in enumerate(acts):
            gc, pp = cams(a.detach(), grads[k].detach())
            size = inputs[k].shape[2:]
            for key, cam in (("gradcam", gc), ("gradcampp", pp)):
                m, hi = normalise(cam, size)
                f = f"{name}.{key}{k}.bin"
                save(os.path.join(out, f), m)
                entry[key].append({"shape": list(m.shape), "file": f})
                if key == "gradcam":
                    entry["raw_max"].append(hi)
        manifest["models"].append(entry)
        print(f"{name}: class {cls}, score {float(score):.4g}, layer {list(acts[0].shape)}, tensors {layers}")
    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
