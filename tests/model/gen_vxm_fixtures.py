#!/usr/bin/python3
"""Writes small .vxm files with the Python writer (weights/vxm.py) and SHA-256 vectors from
hashlib, for the C++ reader's tests: OUTDIR/{conv_relu.vxm, conv_relu_zlib.vxm, expected.json}."""
import hashlib
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "weights"))
import vxm  # noqa: E402

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
b = rng.standard_normal(3).astype(np.float32)
graph = {"inputs": [{"name": "x", "shape": [1, 2, 5, 5]}], "outputs": ["y"],
         "nodes": [{"name": "conv", "op": "Conv", "inputs": ["x", "w", "b"], "outputs": ["c"],
                    "attrs": {"pads": [1, 1, 1, 1], "strides": [1, 1]}},
                   {"name": "act", "op": "LeakyRelu", "inputs": ["c"], "outputs": ["y"], "attrs": {"alpha": 0.25}}]}
meta = {"name": "conv_relu", "architecture": "test", "producer": "gen_vxm_fixtures.py", "licence": "CC0",
        "inputs": [{"name": "x", "sequence": "T1", "shape": [1, 2, 5, 5], "spacing": [1.0, 1.0],
                    "orientation": None, "normalisation": {"method": "zscore"}}],
        "outputs": [{"name": "y", "kind": "image", "classes": [], "activation": "none"}],
        "gradcam_layer": "c", "preprocessing": {"crop": [4, 4]}, "unknown_key": {"ignored": True}}
expected = {"w": w.ravel().tolist(), "b": b.ravel().tolist(), "metadata": meta, "sha256": {}}
for name, compress in (("conv_relu.vxm", False), ("conv_relu_zlib.vxm", True)):
    data = vxm.encode(graph, {"w": w, "b": b}, meta, compress=compress)
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    expected["sha256"][name] = hashlib.sha256(data).hexdigest()
# SHA-256 vectors: lengths around the 55/56/64-byte padding boundaries and a long input.
vectors = []
for n in (0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 1000, 100000):
    msg = bytes((i * 31 + 7) % 256 for i in range(n))
    vectors.append({"len": n, "sha256": hashlib.sha256(msg).hexdigest()})
expected["sha256_vectors"] = vectors
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f)
