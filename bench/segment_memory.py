"""Peak memory and time of `voxinfer segment` against the PyTorch/NumPy reference written from
nnU-Net's predictor (tests/nnunet/nnunet_reference.py), on the same imported model and volume,
each in its own process (peak RSS from getrusage / the child's rusage), one thread each.

The case of issue 19: a 256^3 volume and 14 output classes (13 labels + background). The network
is a small 3d_fullres PlainConvUNet (random weights; its size does not change what the aggregation
and the export hold), patch 64^3, target spacing 1.25 mm from a 1 mm scan, so the logits are
aggregated on a 205^3 grid and resampled back to 256^3 as nnU-Net does. No mirroring by default
(it multiplies the time, not the memory).

    python3 bench/segment_memory.py BUILD_DIR [--size 256] [--classes 14] [--mirroring] [--no-reference]

Prints one table: peak RSS (MiB) and wall time of each side, the ratio, and the label agreement.
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(ROOT, "tests", "nnunet"), os.path.join(ROOT, "weights"),
                os.path.join(ROOT, "tests", "common")]

# A bare interpreter runs the CLI and prints its peak RSS (KiB): a child forked from this process
# (torch loaded) would count the parent's pages in its own peak until exec.
PEAK_OF_CHILD = r"""
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if r.returncode == 0 else "")
sys.exit(r.returncode)
"""

REFERENCE_CHILD = r"""
import json, resource, sys, time
sys.path[:0] = json.loads(sys.argv[1])
import nibabel, numpy as np, torch
torch.set_num_threads(1)
import nnunet_reference as ref
from nnunet.importer import import_nnunet
folder, scan, out, mirror = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1"
_, _, meta, nets = import_nnunet(folder, out + ".vxm", return_networks=True)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.time()
data, spacing = ref.read_images_nibabel([scan])
seg = ref.predict(nets, data, spacing, meta["nnunet"], mirror_axes=None if mirror else [])
dt = time.time() - t0
np.save(out, np.asarray(seg))
print(json.dumps({"peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "base_kib": base, "seconds": dt}))
"""


def make_model(root, classes, patch, spacing):
    import make_nnunet_folder as mk
    plans = mk.plain_plans(schemes=["ZScoreNormalization"], use_mask=[False], channels={"0": "T1"},
                           intensity={"0": mk.INTENSITY["1"]})
    c = plans["configurations"]["3d_fullres"]
    c["patch_size"], c["spacing"] = [patch] * 3, [spacing] * 3
    c["architecture"]["arch_kwargs"].update(
        n_stages=3, features_per_stage=[8, 16, 32], kernel_sizes=[[3, 3, 3]] * 3,
        strides=[[1, 1, 1], [2, 2, 2], [2, 2, 2]], n_conv_per_stage=[1, 1, 1], n_conv_per_stage_decoder=[1, 1])
    plans["configurations"] = {"3d_fullres": c}
    ds = mk.dataset_json(channels={"0": "T1"})
    ds["labels"] = {"background": 0, **{f"class{i}": i for i in range(1, classes)}}
    folder = os.path.join(root, "nnUNetTrainer__nnUNetPlans__3d_fullres")
    return mk.write_model_folder(folder, plans, ds, "3d_fullres")


def make_scan(path, size):
    import nibabel
    import numpy as np
    g = np.random.default_rng(0)
    z, y, x = np.mgrid[:size, :size, :size].astype(np.float32) / size
    vol = 300 + 200 * np.sin(6 * x) * np.cos(5 * y) + 150 * z + 20 * g.standard_normal((size,) * 3)
    nibabel.save(nibabel.Nifti1Image(vol.astype(np.float32).transpose(2, 1, 0), np.eye(4)), path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--classes", type=int, default=14)
    ap.add_argument("--patch", type=int, default=64)
    ap.add_argument("--spacing", type=float, default=1.25)
    ap.add_argument("--mirroring", action="store_true")
    ap.add_argument("--no-reference", action="store_true", help="run voxinfer only (the reference takes minutes)")
    a = ap.parse_args()
    cli = os.path.join(a.build, "bin", "voxinfer")
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_model(tmp, a.classes, a.patch, a.spacing)
        scan = os.path.join(tmp, "scan.nii.gz")
        make_scan(scan, a.size)
        from nnunet.importer import import_nnunet
        model = os.path.join(tmp, "model.vxm")
        import_nnunet(folder, model)
        seg_path = os.path.join(tmp, "seg.nii.gz")
        args = [cli, "segment", "--model", model, "--input", scan, "--out", seg_path, "--threads", "1", "--quiet"]
        if not a.mirroring:
            args.append("--no-mirroring")
        t0 = time.time()
        ours = subprocess.run([sys.executable, "-S", "-c", PEAK_OF_CHILD] + args, capture_output=True, text=True)
        dt = time.time() - t0
        if ours.returncode:
            sys.exit("voxinfer segment failed:\n" + ours.stderr[-3000:])
        peak = int(ours.stdout.strip().splitlines()[-1])
        # The predictor's own estimate (what --memory-limit compares against), printed by the CLI.
        est = re.search(r"estimated peak (\d+) MB", ours.stdout)
        estimate = f"{est.group(1)} MiB estimated before running" if est else "no estimate printed"
        if a.no_reference:
            print(f"voxinfer segment: peak RSS {peak / 1024:.0f} MiB ({estimate}), {dt:.1f} s")
            return
        child = subprocess.run([sys.executable, "-c", REFERENCE_CHILD, json.dumps(sys.path[:3]), folder, scan,
                                os.path.join(tmp, "ref"), "1" if a.mirroring else "0"],
                               capture_output=True, text=True)
        if child.returncode:
            sys.exit("reference failed:\n" + child.stderr[-3000:])
        r = json.loads(child.stdout.strip().splitlines()[-1])
        import nibabel
        import numpy as np
        seg = np.asanyarray(nibabel.load(seg_path).dataobj).transpose(2, 1, 0)
        agree = float(np.mean(seg == np.load(os.path.join(tmp, "ref.npy"))))
    mib = 1 / 1024
    print(f"segment memory: {a.size}^3, {a.classes} classes, patch {a.patch}^3, target {a.spacing} mm, "
          f"mirroring {'on' if a.mirroring else 'off'}, 1 thread")
    print("| | peak RSS (MiB) | of which before predicting | wall (s) |")
    print("|---|---|---|---|")
    print(f"| reference (nnunet_reference.py, torch) | {r['peak_kib'] * mib:.0f} | {r['base_kib'] * mib:.0f} "
          f"| {r['seconds']:.1f} |")
    print(f"| voxinfer segment | {peak * mib:.0f} ({estimate}) | | {dt:.1f} |")
    print(f"ratio voxinfer / reference peak: {peak / r['peak_kib']:.2f}; "
          f"vs the reference's growth while predicting: {peak / max(1, r['peak_kib'] - r['base_kib']):.2f}; "
          f"labels equal: {100 * agree:.3f}%")


if __name__ == "__main__":
    main()
