#!/usr/bin/env python3
"""Runs bench/conv_bench's convolutions in PyTorch with the same thread count and prints
both timings and voxinfer's speed-up. Run with Debian's Python (it has torch):

    /usr/bin/python3 bench/torch_compare.py --build build --threads 2 [--filter REGEX] [--reps 5]

On a busy shared machine, prefix OMP_WAIT_POLICY=passive (applies to both engines: they
share libgomp) or compare CPU time at one thread with --cpu-time --threads 1.

PyTorch time: median of --reps runs after one warm-up. voxinfer time: conv_bench's median
over --reps repetitions of the default table's entry (/table: oneDNN, or the direct
one-channel kernel; /gemm_d2s for k2s2 transposed convs; oneDNN's deconvolution printed too).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import time

import torch

# name -> (ic, oc, in DHW, k, stride, pad, transposed); must match kCases in conv_bench.cpp
CASES = {
    "conv3d_1x32_128": (1, 32, (128, 128, 128), (3, 3, 3), (1, 1, 1), (1, 1, 1), False),
    "conv3d_32x32_64": (32, 32, (64, 64, 64), (3, 3, 3), (1, 1, 1), (1, 1, 1), False),
    "conv3d_64x64_32": (64, 64, (32, 32, 32), (3, 3, 3), (1, 1, 1), (1, 1, 1), False),
    "conv3d_128x128_16": (128, 128, (16, 16, 16), (3, 3, 3), (1, 1, 1), (1, 1, 1), False),
    "resnet_stem_1x128_16x192x192": (1, 128, (16, 192, 192), (2, 5, 5), (1, 3, 3), (1, 1, 1), False),
    "bottleneck_1x1x1_256x64_17x64x64": (256, 64, (17, 64, 64), (1, 1, 1), (1, 1, 1), (0, 0, 0), False),
    "bottleneck_3x3x3_64x64_17x64x64": (64, 64, (17, 64, 64), (3, 3, 3), (1, 1, 1), (1, 1, 1), False),
    "bottleneck_3x3x3_s2_128x128_17x64x64": (128, 128, (17, 64, 64), (3, 3, 3), (2, 2, 2), (1, 1, 1), False),
    "bottleneck_1x1x1_1024x256_5x16x16": (1024, 256, (5, 16, 16), (1, 1, 1), (1, 1, 1), (0, 0, 0), False),
    "convT3d_k2s2_64x32_32to64": (64, 32, (32, 32, 32), (2, 2, 2), (2, 2, 2), (0, 0, 0), True),
    "convT3d_k2s2_32x16_64to128": (32, 16, (64, 64, 64), (2, 2, 2), (2, 2, 2), (0, 0, 0), True),
    "convT3d_k2s2_128x64_16to32": (128, 64, (16, 16, 16), (2, 2, 2), (2, 2, 2), (0, 0, 0), True),
}


TIME_KEY = "real_time"
CLOCK = time.perf_counter  # --cpu-time: time.process_time (all threads' CPU time)


def torch_ms(case, reps):
    ic, oc, dhw, k, s, p, transposed = case
    cls = torch.nn.ConvTranspose3d if transposed else torch.nn.Conv3d
    m = cls(ic, oc, k, stride=s, padding=p).eval()
    x = torch.randn(1, ic, *dhw)
    times = []
    with torch.no_grad():
        m(x)
        for _ in range(reps):
            t = CLOCK()
            m(x)
            times.append((CLOCK() - t) * 1e3)
    return statistics.median(times)


def voxinfer_ms(build, flt, reps, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(
        [os.path.join(build, "bench", "conv_bench"), f"--benchmark_filter={flt}", "--benchmark_format=json",
         f"--benchmark_repetitions={reps}", "--benchmark_report_aggregates_only=true"],
        check=True, capture_output=True, text=True, env=env).stdout
    res = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            res[b["run_name"]] = b[TIME_KEY]  # conv_bench reports milliseconds
    return res


class UNet3d(torch.nn.Module):
    """Same network as bench/unet3d_bench.cpp: 4 levels, base 16, conv3+BN+ReLU x2 per
    level, max-pool down, ConvTranspose3d k2 s2 up, skip concat, 1x1x1 head to 2 classes."""

    def __init__(self, levels=4, base=16):
        super().__init__()
        nn = torch.nn

        def block(i, o):
            return nn.Sequential(nn.Conv3d(i, o, 3, padding=1), nn.BatchNorm3d(o), nn.ReLU(inplace=True),
                                 nn.Conv3d(o, o, 3, padding=1), nn.BatchNorm3d(o), nn.ReLU(inplace=True))

        w = [base << l for l in range(levels)]
        self.enc = nn.ModuleList([block(1 if l == 0 else w[l - 1], w[l]) for l in range(levels)])
        self.up = nn.ModuleList([nn.ConvTranspose3d(w[l + 1], w[l], 2, stride=2) for l in range(levels - 1)])
        self.dec = nn.ModuleList([block(2 * w[l], w[l]) for l in range(levels - 1)])
        self.head = nn.Conv3d(base, 2, 1)

    def forward(self, x):
        skips = []
        for l, e in enumerate(self.enc):
            x = e(x)
            if l + 1 < len(self.enc):
                skips.append(x)
                x = torch.nn.functional.max_pool3d(x, 2)
        for l in reversed(range(len(self.up))):
            x = self.dec[l](torch.cat([self.up[l](x), skips[l]], 1))
        return self.head(x)


def unet_torch_ms(size, reps):
    m = UNet3d().eval()
    x = torch.randn(1, 1, size, size, size)
    times = []
    with torch.no_grad():
        m(x)
        for _ in range(reps):
            t = CLOCK()
            m(x)
            times.append((CLOCK() - t) * 1e3)
    return statistics.median(times)


def unet_voxinfer_ms(build, reps, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(
        [os.path.join(build, "bench", "unet3d_bench"), "--benchmark_format=json", f"--benchmark_repetitions={reps}",
         "--benchmark_report_aggregates_only=true", "--benchmark_min_time=0.1"],
        check=True, capture_output=True, text=True, env=env).stdout
    return {b["run_name"]: b[TIME_KEY] for b in json.loads(out)["benchmarks"] if b.get("aggregate_name") == "median"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--filter", default=".")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--unet", action="store_true", help="also the 3-D U-Net at 96^3 and 128^3")
    ap.add_argument("--no-convs", action="store_true", help="skip the per-conv table")
    ap.add_argument("--cpu-time", action="store_true",
                    help="compare CPU time instead of wall time (robust on a busy machine; use with --threads 1, "
                         "Google Benchmark's CPU time covers its main thread only)")
    a = ap.parse_args()
    global CLOCK, TIME_KEY
    if a.cpu_time:
        CLOCK, TIME_KEY = time.process_time, "cpu_time"
    torch.set_num_threads(a.threads)
    if a.unet:
        vx = unet_voxinfer_ms(a.build, a.reps, a.threads)
        print(f"3-D U-Net (4 levels, base 16), threads={a.threads}, median ms")
        for size in (96, 128):
            t = unet_torch_ms(size, a.reps)
            ours = vx[f"BM_unet3d/{size}/min_time:0.100/real_time"] if f"BM_unet3d/{size}/min_time:0.100/real_time" in vx \
                else next(v for k, v in vx.items() if k.startswith(f"BM_unet3d/{size}/"))
            print(f"unet3d_{size}^3{'':27s} {t:9.1f} {ours:9.1f} {t / ours:8.2f}x")
    if a.no_convs:
        return
    names = [n for n in CASES if re.search(a.filter, n)]
    vx = voxinfer_ms(a.build, "|".join(f"^{n}/(table|gemm_d2s|onednn_deconv)/" for n in names), a.reps, a.threads)
    print(f"threads={a.threads}  torch {torch.__version__}  (median {'CPU' if a.cpu_time else 'wall'} ms)")
    print(f"{'case':40s} {'torch':>9s} {'voxinfer':>9s} {'speed-up':>9s}   notes")
    for n in names:
        t = torch_ms(CASES[n], a.reps)
        ours = vx.get(f"{n}/table/real_time", vx.get(f"{n}/gemm_d2s/real_time"))
        deconv = vx.get(f"{n}/onednn_deconv/real_time")
        note = f"oneDNN deconv {deconv:.1f} ms" if deconv else ""
        print(f"{n:40s} {t:9.1f} {ours:9.1f} {t / ours:8.2f}x   {note}")


if __name__ == "__main__":
    main()
