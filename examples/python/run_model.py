#!/usr/bin/python3
"""Loads a model, runs it on a .npy volume (float32, N,C,D,H,W), writes the result as .npy.

    PYTHONPATH=bindings/python VOXINFER_LIBRARY=build/libvoxinfer.so \
        /usr/bin/python3 examples/python/run_model.py MODEL.vxm INPUT.npy OUTPUT.npy
"""
import sys

import numpy as np

import voxinfer


def main():
    model_path, input_path, output_path = sys.argv[1:4]
    model = voxinfer.Model(model_path, threads=None)
    print(f"voxinfer {voxinfer.version()}: inputs {model.input_names} {model.input_shapes}")
    out = model.run(np.load(input_path))
    np.save(output_path, out[0] if isinstance(out, list) else out)
    print(f"wrote {output_path}")


if __name__ == "__main__":
    main()
