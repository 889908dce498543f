#!/usr/bin/env python3
"""Whole-model comparison of voxinfer (through the engine: .vxm -> session, via the Python
binding) with PyTorch eager and PyTorch traced+frozen, at the same thread count.

    cmake --build build -j2 --target voxinfer fma_peak_bench
    OMP_WAIT_POLICY=passive /usr/bin/python3 bench/model_compare.py --build build --threads 2,1 [--reps 3]
        [--only REGEX] [--peak GFLOPS_PER_CORE]

Models: the first layer of a 3-D U-Net (conv 1 -> 32, 3x3x3, + BN + ReLU) at 128^3; a 3-D U-Net (4 levels: 16/32/64/128 channels, three 2x max-pools; two conv3x3x3+BN+ReLU
per level; ConvTranspose3d k2 s2 up, skip concat, 1x1x1 head, 3 classes) at 96^3 and 128^3;
3-D ResNet-18 (weights/models/resnet3d.py, 2 classes) at 1x1x64x128x128; the published
dual-encoder 3-D ResNet-101 (weights/models/dual_encoder.py) on one patient, T1 and STIR each
1x1x16x192x192 through the shared encoder; the 2-D U-Net of
weights/models/unet2d.py on 20 slices of 128x160; 2-D ResNet-50 (weights/models/resnet2d.py) on
1 and 20 slices of 224^2; the field's architectures (weights/models/field_zoo.py: an nnU-Net
3d_fullres-style PlainConvUNet at 128^3, MONAI-style UNet and SegResNet at 96^3, DeepLabV3/FCN/
LRASPP at 256^2, torchvision's classifiers and video networks). Each is converted with
convert_torch (BN folded) to a temporary .vxm; a model the converter refuses gets PyTorch's
numbers and the converter's error (op and node) in place of voxinfer's.

First run: from a loaded model to its first output (voxinfer: session creation, which warms the
session up unless VX_WARMUP=0, plus the first run; traced: tracing, freezing and the first run;
eager: the first run). The one-line summary per model gives first run, steady-state median and
voxinfer's speed-up over eager and traced.

Every framework runs in its own subprocess (so their memory does not mix): one warm-up run
(for the traced model: tracing, freezing and two runs), then --reps timed runs; wall time and
process CPU time are medians. Peak memory: the process's peak resident set (VmHWM) over the
warm-up (tracing included) and timed runs minus its resident set just before them, the peak
being reset first through /proc/self/clear_refs; so it counts activations, workspaces, reordered
weight caches, allocator growth and the output of one run (each timed run starts after the previous
output is released, as a caller that is done with it would), not the weights loaded (or the
model file mapped) before. Outputs are checked: max|vx - eager| <= 1e-3 * max(1, max|eager|).

GFLOP/s counts 2*MACs of Conv, ConvTranspose and Linear layers from the module's shapes (other
ops are not counted); % of peak is against --peak per core (default: bench/peak/fma_peak_bench's
one-core result) times the thread count. On a shared machine wall times are noisy: compare the
CPU-time columns, and the 1-thread rows, which are less sensitive to other load.
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# ---- models -------------------------------------------------------------------------------

def _unet3d():
    import torch
    from torch import nn

    def block(ni, nf):
        return nn.Sequential(nn.Conv3d(ni, nf, 3, 1, 1, bias=False), nn.BatchNorm3d(nf), nn.ReLU(inplace=True),
                             nn.Conv3d(nf, nf, 3, 1, 1, bias=False), nn.BatchNorm3d(nf), nn.ReLU(inplace=True))

    class UNet3d(nn.Module):
        def __init__(self, base=16, levels=4, classes=3):
            super().__init__()
            ch = [base * 2 ** i for i in range(levels)]
            self.down = nn.ModuleList([block(1 if i == 0 else ch[i - 1], ch[i]) for i in range(levels)])
            self.pool = nn.MaxPool3d(2)
            self.ups = nn.ModuleList([nn.ConvTranspose3d(ch[i], ch[i - 1], 2, 2) for i in range(levels - 1, 0, -1)])
            self.up_blocks = nn.ModuleList([block(2 * ch[i - 1], ch[i - 1]) for i in range(levels - 1, 0, -1)])
            self.head = nn.Conv3d(ch[0], classes, 1)

        def forward(self, x):
            skips = []
            for i, d in enumerate(self.down):
                x = d(x)
                if i < len(self.down) - 1:
                    skips.append(x)
                    x = self.pool(x)
            for up, blk, skip in zip(self.ups, self.up_blocks, reversed(skips)):
                x = blk(torch.cat([skip, up(x)], dim=1))
            return self.head(x)

    return UNet3d()


def _first_layer():
    """The first layer of a 3-D U-Net with base 32: conv 1 -> 32, 3x3x3, + BN + ReLU."""
    from torch import nn
    return nn.Sequential(nn.Conv3d(1, 32, 3, 1, 1, bias=False), nn.BatchNorm3d(32), nn.ReLU(inplace=True))


def _models():
    sys.path.insert(0, os.path.join(ROOT, "weights"))
    from models import dual_encoder, resnet2d, resnet3d, unet2d
    one_sequence = (1, 1, 16, 192, 192)
    return {
        "first_layer_1x32_128": (_first_layer, (1, 1, 128, 128, 128)),
        "unet3d_96": (_unet3d, (1, 1, 96, 96, 96)),
        "unet3d_128": (_unet3d, (1, 1, 128, 128, 128)),
        "resnet3d18_64x128x128": (lambda: resnet3d.build(18, num_classes=2), (1, 1, 64, 128, 128)),
        # the published A3 model on one patient: T1 and STIR through the shared encoder (2 x 1x1x16x192x192)
        "dual_resnet101_2x16x192x192": (lambda: dual_encoder.build(depth=101, num_outputs=2),
                                        [one_sequence, one_sequence]),
        "unet2d_20x128x160": (lambda: unet2d.build(), (20, 1, 128, 160)),
        "resnet50_1x224": (lambda: resnet2d.build(), (1, 3, 224, 224)),
        "resnet50_20x224": (lambda: resnet2d.build(), (20, 3, 224, 224)),
        **_field_models(),
    }


def _field_models():
    """The field's architectures (weights/models/field_zoo.py) at their benchmark sizes."""
    from models.field_zoo import FIELD_MODELS, build_field_model
    return {n: ((lambda n=n: build_field_model(n)), bench) for n, (_f, bench, _t) in FIELD_MODELS.items()}


def _randomise_bn(m, seed):
    """Non-trivial BN statistics so folding them is actually tested."""
    import torch
    g = torch.Generator().manual_seed(seed)
    for mod in m.modules():
        if isinstance(mod, (torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)):
            n = mod.num_features
            mod.running_mean.copy_(torch.rand(n, generator=g) * 0.2 - 0.1)
            mod.running_var.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
            mod.weight.data.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
            mod.bias.data.copy_(torch.rand(n, generator=g) * 0.2 - 0.1)


def _flops(m, xs):
    """2*MACs of Conv/ConvTranspose/Linear, from the shapes seen in one forward pass."""
    import torch
    from torch import nn
    total = [0]

    def hook(mod, inp, out):
        k = 1
        for s in getattr(mod, "kernel_size", ()):
            k *= s
        if isinstance(mod, (nn.Conv2d, nn.Conv3d)):
            total[0] += 2 * out.numel() * (mod.in_channels // mod.groups) * k
        elif isinstance(mod, (nn.ConvTranspose2d, nn.ConvTranspose3d)):
            total[0] += 2 * inp[0].numel() * (mod.out_channels // mod.groups) * k
        elif isinstance(mod, nn.Linear):
            total[0] += 2 * (inp[0].numel() // mod.in_features) * mod.in_features * mod.out_features

    hs = [mod.register_forward_hook(hook) for mod in m.modules()
          if isinstance(mod, (nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear))]
    with torch.no_grad():
        m(*xs)
    for h in hs:
        h.remove()
    return total[0]


# ---- worker (one framework, one model, one thread count, in its own process) ---------------

def _rss_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def _timed(fn, reps):
    walls, cpus = [], []
    out = None
    for _ in range(reps):
        out = None  # a run's peak: the caller no longer holds the previous run's output
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return out, statistics.median(walls), statistics.median(cpus), walls


def worker(a):
    import numpy as np
    with np.load(a.input) as z:
        xs = [z["x%d" % i] for i in range(len(z.files))]
    t_start = time.perf_counter()  # first: from here (model loaded / traced) to the first output
    if a.framework == "vx":
        import voxinfer
        m = voxinfer.Model(a.vxm, threads=a.threads)  # makes the session (and warms it up unless VX_WARMUP=0)
        create = time.perf_counter() - t_start
        fn = lambda: m.run(*xs)  # noqa: E731
        warm = 1
    else:
        import torch
        torch.set_num_threads(a.threads)
        mod = _models()[a.case][0]().eval()
        mod.load_state_dict(torch.load(a.module))
        xts = tuple(torch.from_numpy(x) for x in xs)
        t_start = time.perf_counter()
        note = ""
        if a.framework == "eager":
            run = mod
            warm = 0
            exact_peak = _reset_peak()
            base = _rss_kb("VmRSS")
            base_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            flops = _flops(mod, xts)  # is the warm-up run
            first = time.perf_counter() - t_start
        else:
            exact_peak = _reset_peak()  # tracing runs the model: count it
            base = _rss_kb("VmRSS")
            base_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            with torch.no_grad():
                run = torch.jit.freeze(torch.jit.trace(mod, xts))
                try:
                    run = torch.jit.optimize_for_inference(run)
                    note = "frozen+optimize_for_inference"
                except Exception as e:  # noqa: BLE001
                    note = "frozen (optimize_for_inference failed: %s)" % type(e).__name__
            warm = 2  # the profiling executor specialises on the first runs

        def fn():
            with torch.no_grad():
                return run(*xts).numpy()

    if a.framework == "vx":
        exact_peak = _reset_peak()
        base = _rss_kb("VmRSS")
        base_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i in range(warm):
        fn()
        if i == 0:
            first = time.perf_counter() - t_start
    out, wall, cpu, walls = _timed(fn, a.reps)
    peak = _rss_kb("VmHWM")
    inc_kb = peak - base if exact_peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_maxrss
    np.save(a.output, np.asarray(out, dtype=np.float32))
    res = {"first": first, "wall": wall, "cpu": cpu, "walls": walls, "mem_mb": inc_kb / 1024.0, "exact_peak": exact_peak}
    if a.framework == "jit":
        res["note"] = note
    if a.framework == "vx":
        res["create"] = create
    if a.framework == "eager":
        res["flops"] = flops
    print("RESULT " + json.dumps(res))


# ---- driver --------------------------------------------------------------------------------

def measured_peak(build):
    exe = os.path.join(build, "bench", "peak", "fma_peak_bench")
    if not os.path.exists(exe):
        sys.exit("no %s: build the fma_peak_bench target or pass --peak" % exe)
    out = subprocess.run([exe, "--benchmark_filter=BM_fma_peak/1/", "--benchmark_format=json",
                          "--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true"],
                         capture_output=True, text=True, check=True).stdout
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median" and "GFLOP/s" in b:
            return b["GFLOP/s"]
    sys.exit("could not read a FLOP/s counter from fma_peak_bench; pass --peak")


def run_worker(framework, case, tmp, threads, reps, build):
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    env["VOXINFER_LIBRARY"] = os.path.join(build, "libvoxinfer.so")
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "bindings", "python"), os.path.join(ROOT, "weights"),
                                         HERE, env.get("PYTHONPATH", "")])
    out_npy = os.path.join(tmp, "%s_%s_%d.npy" % (case, framework, threads))
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", framework, "--case", case, "--threads", str(threads),
           "--reps", str(reps), "--input", os.path.join(tmp, case + "_x.npz"),
           "--module", os.path.join(tmp, case + ".pt"), "--vxm", os.path.join(tmp, case + ".vxm"),
           "--output", out_npy]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            r = json.loads(line[7:])
            r["out"] = out_npy
            return r
    sys.exit("%s worker for %s failed:\n%s\n%s" % (framework, case, p.stdout[-3000:], p.stderr[-3000:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", default="2,1", help="comma-separated thread counts")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="", help="regex over model names")
    ap.add_argument("--peak", type=float, default=0.0, help="GFLOP/s of one core (default: run fma_peak_bench)")
    ap.add_argument("--json", default="", help="also write the rows here")
    ap.add_argument("--worker", choices=["eager", "jit", "vx"])
    ap.add_argument("--case")
    ap.add_argument("--input")
    ap.add_argument("--module")
    ap.add_argument("--vxm")
    ap.add_argument("--output")
    a = ap.parse_args()
    if a.worker:
        a.framework = a.worker
        a.threads = int(a.threads)
        return worker(a)

    import numpy as np
    import torch
    sys.path.insert(0, os.path.join(ROOT, "weights"))
    from convert import ConvertError, convert_torch

    peak = a.peak or measured_peak(a.build)
    threads = [int(t) for t in a.threads.split(",")]
    print("peak: %.1f GFLOP/s per core%s; reps %d (median), threads %s, OMP_WAIT_POLICY=%s" %
          (peak, "" if a.peak else " (fma_peak_bench)", a.reps, threads, os.environ.get("OMP_WAIT_POLICY", "")))
    rows = []
    with tempfile.TemporaryDirectory(prefix="vx_model_compare_") as tmp:
        for case, (make, shape) in _models().items():
            if a.only and not re.search(a.only, case):
                continue
            torch.manual_seed(0)
            m = make().eval()
            _randomise_bn(m, 1)
            xs = tuple(torch.randn(*s) for s in (shape if isinstance(shape, list) else [shape]))
            np.savez(os.path.join(tmp, case + "_x.npz"), **{"x%d" % i: x.numpy() for i, x in enumerate(xs)})
            torch.save(m.state_dict(), os.path.join(tmp, case + ".pt"))
            try:
                convert_torch(m, xs, os.path.join(tmp, case + ".vxm"))
                conv_error = None
            except ConvertError as e:  # not convertible yet: PyTorch's numbers and the converter's message
                conv_error = str(e)
            for n in threads:
                r = {k: run_worker(k, case, tmp, n, a.reps, a.build) for k in ("eager", "jit")}
                if conv_error:
                    print("%-26s %dT | first s: eager %7.3f  jit %7.3f | median s: eager %7.3f  jit %7.3f | vx: "
                          "converter error: %s" % (case, n, r["eager"]["first"], r["jit"]["first"], r["eager"]["wall"],
                                                   r["jit"]["wall"], conv_error), flush=True)
                    rows.append({"model": case, "threads": n, "convert_error": conv_error, "ok": True,
                                 **{k + "_s": r[k]["wall"] for k in r}, **{k + "_first_s": r[k]["first"] for k in r}})
                    continue
                r["vx"] = run_worker("vx", case, tmp, n, a.reps, a.build)
                flops = r["eager"]["flops"]
                ref = np.load(r["eager"]["out"])
                got = np.load(r["vx"]["out"])
                err = float(np.abs(got.reshape(ref.shape) - ref).max())
                tol = 1e-3 * max(1.0, float(np.abs(ref).max()))
                row = {"model": case, "threads": n, "gflop": flops / 1e9, "max_abs_err": err, "tol": tol,
                       "ok": err <= tol, "jit_note": r["jit"].get("note", "")}
                for k in ("eager", "jit", "vx"):
                    row[k + "_s"], row[k + "_cpu_s"], row[k + "_mem_mb"] = r[k]["wall"], r[k]["cpu"], r[k]["mem_mb"]
                    row[k + "_first_s"] = r[k]["first"]
                    row[k + "_gflops"] = flops / 1e9 / r[k]["wall"]
                row["vx_pct_peak"] = 100.0 * row["vx_gflops"] / (peak * n)
                row["vx_create_s"] = r["vx"]["create"]
                rows.append(row)
                print("%-26s %dT | first s: eager %7.3f  jit %7.3f  vx %7.3f (session %.3f) | median s: eager %7.3f  "
                      "jit %7.3f  vx %7.3f | vx x%.2f eager, x%.2f traced" %
                      (case, n, row["eager_first_s"], row["jit_first_s"], row["vx_first_s"], row["vx_create_s"],
                       row["eager_s"], row["jit_s"], row["vx_s"], row["eager_s"] / row["vx_s"],
                       row["jit_s"] / row["vx_s"]), flush=True)
                print("%-22s %dT %7.1f GFLOP | wall s: eager %7.3f  jit %7.3f  vx %7.3f | cpu s: eager %7.2f  "
                      "jit %7.2f  vx %7.2f | vx speed-up wall x%.2f/x%.2f cpu x%.2f/x%.2f | vx %6.1f GFLOP/s "
                      "%5.1f%% peak | mem MB: eager %6.0f jit %6.0f vx %6.0f | err %.1e %s" %
                      (case, n, row["gflop"], row["eager_s"], row["jit_s"], row["vx_s"], row["eager_cpu_s"],
                       row["jit_cpu_s"], row["vx_cpu_s"], row["eager_s"] / row["vx_s"], row["jit_s"] / row["vx_s"],
                       row["eager_cpu_s"] / row["vx_cpu_s"], row["jit_cpu_s"] / row["vx_cpu_s"], row["vx_gflops"],
                       row["vx_pct_peak"], row["eager_mem_mb"], row["jit_mem_mb"], row["vx_mem_mb"], err,
                       "ok" if row["ok"] else "MISMATCH (tol %.1e)" % tol), flush=True)
    if rows:
        print("jit:", rows[0].get("jit_note", ""))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
