#!/usr/bin/python3
"""Writes the small models the C API, Python and R binding tests run, with PyTorch references.

    gen_capi_fixtures.py OUTDIR

OUTDIR/tiny3d.vxm        image[-1,2,-1,-1,-1] -> Conv3d(2->4, 3, pad 1) -> Relu -> Conv3d(4->3, 1)
OUTDIR/two_io.vxm        a, b [1,1,-1,-1] -> Sub(a, b) -> Conv2d(1->2, 3, pad 1) = logits -> Sigmoid = probs
For each: NAME_in{i}.npy / NAME_out{j}.npy (PyTorch results) and the same as raw little-endian
float32 (.f32) with shapes in NAME.json, for the C and R tests.
"""
import json
import os
import sys

import numpy as np
import torch
import vxm


def save(outdir, name, inputs, outputs):
    info = {"inputs": [], "outputs": []}
    for kind, arrays in (("in", inputs), ("out", outputs)):
        for i, a in enumerate(arrays):
            a = np.ascontiguousarray(a, dtype=np.float32)
            np.save(os.path.join(outdir, f"{name}_{kind}{i}.npy"), a)
            a.astype("<f4").tofile(os.path.join(outdir, f"{name}_{kind}{i}.f32"))
            info["inputs" if kind == "in" else "outputs"].append(list(a.shape))
    with open(os.path.join(outdir, f"{name}.json"), "w") as f:
        json.dump(info, f)


def tiny3d(outdir):
    torch.manual_seed(0)
    c1 = torch.nn.Conv3d(2, 4, 3, padding=1)
    c2 = torch.nn.Conv3d(4, 3, 1)
    graph = {"inputs": [{"name": "image", "shape": [-1, 2, -1, -1, -1]}], "outputs": ["out"],
             "nodes": [{"name": "conv1", "op": "Conv", "inputs": ["image", "c1.w", "c1.b"], "outputs": ["h1"],
                        "attrs": {"pads": [1, 1, 1, 1, 1, 1]}},
                       {"name": "relu1", "op": "Relu", "inputs": ["h1"], "outputs": ["r1"]},
                       {"name": "conv2", "op": "Conv", "inputs": ["r1", "c2.w", "c2.b"], "outputs": ["out"]}]}
    tensors = {"c1.w": c1.weight.detach().numpy(), "c1.b": c1.bias.detach().numpy(),
               "c2.w": c2.weight.detach().numpy(), "c2.b": c2.bias.detach().numpy()}
    vxm.write(os.path.join(outdir, "tiny3d.vxm"), graph, tensors,
              {"name": "tiny3d", "outputs": [{"name": "out", "kind": "logits"}]})
    x = torch.randn(1, 2, 6, 7, 8)  # D, H, W all different: a transposed axis cannot pass
    with torch.no_grad():
        y = c2(torch.relu(c1(x)))
    save(outdir, "tiny3d", [x.numpy()], [y.numpy()])


def two_io(outdir):
    torch.manual_seed(1)
    conv = torch.nn.Conv2d(1, 2, 3, padding=1)
    graph = {"inputs": [{"name": "a", "shape": [1, 1, -1, -1]}, {"name": "b", "shape": [1, 1, -1, -1]}],
             "outputs": ["logits", "probs"],
             "nodes": [{"name": "sub", "op": "Sub", "inputs": ["a", "b"], "outputs": ["d"]},
                       {"name": "conv", "op": "Conv", "inputs": ["d", "w", "bias"], "outputs": ["logits"],
                        "attrs": {"pads": [1, 1, 1, 1]}},
                       {"name": "sigmoid", "op": "Sigmoid", "inputs": ["logits"], "outputs": ["probs"]}]}
    tensors = {"w": conv.weight.detach().numpy(), "bias": conv.bias.detach().numpy()}
    vxm.write(os.path.join(outdir, "two_io.vxm"), graph, tensors, {"name": "two_io"})
    a, b = torch.randn(1, 1, 9, 11), torch.randn(1, 1, 9, 11)
    with torch.no_grad():
        logits = conv(a - b)
    save(outdir, "two_io", [a.numpy(), b.numpy()], [logits.numpy(), torch.sigmoid(logits).numpy()])


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    tiny3d(outdir)
    two_io(outdir)


if __name__ == "__main__":
    main()
