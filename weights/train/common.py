"""Shared helpers for the demo training scripts: paths, seeding, metrics, output."""
import argparse
import json
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = os.path.dirname(HERE)
sys.path.insert(0, WEIGHTS)  # so `models` (weights/models, the reference modules) imports
sys.path.insert(0, HERE)


def parse_args(desc):
    p = argparse.ArgumentParser(description=desc)
    p.add_argument("--out", default=os.path.join(HERE, "out"), help="output folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--smoke", action="store_true", help="one short epoch on tiny data (CI)")
    p.add_argument("--threads", type=int, default=2,
                   help="torch threads (default 2; on an oversubscribed machine 1 is several times faster)")
    return p.parse_args()


def setup(seed, threads=2):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    np.random.seed(seed)
    try:
        torch.use_deterministic_algorithms(True)
    except Exception:  # pragma: no cover - older torch
        pass


def env_info():
    return {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
            "threads": torch.get_num_threads(), "machine": platform.machine(),
            "cpu_count": os.cpu_count()}


def save(out, name, model, config, metrics, t0):
    os.makedirs(out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(out, f"{name}.pt"))
    with open(os.path.join(out, f"{name}.config.json"), "w") as f:
        json.dump(config, f, indent=2)
    metrics["wall_seconds_total"] = round(time.time() - t0, 1)
    metrics["env"] = env_info()
    with open(os.path.join(out, f"{name}.metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    print(json.dumps(metrics, indent=2))


# ---- image quality -------------------------------------------------------------------------

def psnr(x, ref):
    """PSNR in dB with the data range of the reference volume."""
    rng = float(ref.max() - ref.min())
    mse = float(((x - ref) ** 2).mean())
    return 10.0 * np.log10(rng * rng / max(mse, 1e-12))


def _gauss1d(size, sigma):
    g = torch.arange(size, dtype=torch.float64) - (size - 1) / 2.0
    g = torch.exp(-(g ** 2) / (2 * sigma * sigma))
    return g / g.sum()


def ssim3d(x, ref, size=7, sigma=1.5):
    """Mean SSIM of two 3D volumes (numpy, D x H x W), 3D Gaussian window (separable, size^3,
    sigma in voxels), valid region only, K1 = 0.01, K2 = 0.03, L = range of the reference."""
    rng = float(ref.max() - ref.min())
    c1, c2 = (0.01 * rng) ** 2, (0.03 * rng) ** 2
    g = _gauss1d(size, sigma)
    a = torch.from_numpy(np.asarray(x, np.float64))[None, None]
    b = torch.from_numpy(np.asarray(ref, np.float64))[None, None]

    def filt(v):
        v = F.conv3d(v, g.view(1, 1, -1, 1, 1))
        v = F.conv3d(v, g.view(1, 1, 1, -1, 1))
        return F.conv3d(v, g.view(1, 1, 1, 1, -1))

    mu_a, mu_b = filt(a), filt(b)
    saa = filt(a * a) - mu_a ** 2
    sbb = filt(b * b) - mu_b ** 2
    sab = filt(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (saa + sbb + c2))
    return float(s.mean())


# ---- classification ------------------------------------------------------------------------

def auc(scores, labels):
    """ROC AUC by the Mann-Whitney U statistic (ties count one half)."""
    s, y = np.asarray(scores, np.float64), np.asarray(labels).astype(bool)
    pos, neg = s[y], s[~y]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    gt = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(gt / (len(pos) * len(neg)))


def bootstrap_auc_ci(scores, labels, seed, n=1000):
    rng = np.random.default_rng(seed)
    s, y = np.asarray(scores), np.asarray(labels)
    vals = []
    for _ in range(n):
        i = rng.integers(0, len(s), len(s))
        if 0 < y[i].sum() < len(i):
            vals.append(auc(s[i], y[i]))
    return [float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))]


def clopper_pearson(k, n, alpha=0.05):
    from scipy.stats import beta
    if n == 0:
        return [float("nan"), float("nan")]
    lo = 0.0 if k == 0 else beta.ppf(alpha / 2, k, n - k + 1)
    hi = 1.0 if k == n else beta.ppf(1 - alpha / 2, k + 1, n - k)
    return [float(lo), float(hi)]


def youden_cutoff(scores, labels):
    s, y = np.asarray(scores), np.asarray(labels).astype(bool)
    best, cut = -1.0, 0.5
    for c in np.unique(s):
        j = (s[y] >= c).mean() + (s[~y] < c).mean() - 1.0
        if j > best:
            best, cut = j, float(c)
    return cut


def dice(pred, ref):
    pred, ref = np.asarray(pred, bool), np.asarray(ref, bool)
    den = pred.sum() + ref.sum()
    return float(2.0 * (pred & ref).sum() / den) if den else 1.0
