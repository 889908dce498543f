#!/usr/bin/python3
"""Synthetic two-sequence examinations built from the real volumes in examples/data/.

Everything here is deterministic from a seed (numpy Generator, no global state).

Sources (each read once, intensities divided by the volume's 99.5th percentile):
  spine   cervical spine of one subject, REAL T1w + T2w pair. The T2 (stored P-S-R) is resampled
          into the T1 voxel grid through the two affines; the pair is cropped to the box where
          the T2 covers the T1 grid. T2 plays the part of the STIR sequence.
  chris   whole-head brain T1 (1.76 mm). Single sequence.
  icbm    ICBM152 template brain (2.39 mm), the six stored voxel orientations (the same
          template; each file's voxel order is kept, no reorientation, as in the published
          preprocessing). Single sequence. These orientation test images carry burned-in
          markers (lines and a letter "R" at the maximum value): they are in-painted here.
  abdomen abdominal MRI (3 mm). Single sequence.
For single-sequence sources the second, STIR-like sequence is SYNTHESISED: inside a smoothed
body mask, stir = mask * (1 - t1)^gamma * gain (a monotone decreasing transform of the T1, so
fluid/CSF becomes bright and fat dark, as on STIR) with its own Rician noise; outside the mask 0.

Held-out split BY SOURCE VOLUME: train/validation examinations come from spine + chris; test
examinations come from icbm + abdomen, which no model ever sees during training. Validation
examinations are new random crops of the training sources (drawn from a different seed stream)
and are used only to fix the classifier's cut-off.

An examination: random crop of a source (random zoom, D axis = the source's slice axis, slab
thickness about 0.35 x the in-plane field of view like the 3.5 mm x 20 slices vs 224 mm of the
published protocol, random in-plane flips), resampled (trilinear) to GRID = 16 x 64 x 64.
With probability 0.5 one oedema-like lesion is inserted: a smooth ellipsoid (random radii 5-10
voxels in-plane, 2-3.5 in depth, random in-plane rotation) centred at a random voxel of the
eroded body mask. Its STIR intensity is set relative to the crop itself, not by a fixed offset
(with a fixed offset most lesions were no brighter than the brightest tissue of the crop):
the level is the larger of 1.5-3 x the local body intensity and 1.1-1.4 x the body's 99th
percentile, blended in with the smooth profile (voxels already brighter are kept); T1 is
lowered by 10-40 % (oedema is hypointense on T1). The lesion mask is the ellipsoid interior
(normalised radius <= 1) within the body mask.
Mild Rician noise is added to both sequences (sigma 0.01-0.03).

For the denoiser, `degrade` multiplies a clean sequence by a smooth random bias field
(exp of a low-pass random field, +-25 %) and adds Rician noise (sigma 0.03-0.10); the target is
the clean sequence. Both are z-scored with the mean and SD of the degraded input (the
published denoiser's preprocessing; computable by the engine at inference).
"""
import os

import nibabel as nib
import numpy as np
from scipy import ndimage as ndi

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "examples", "data"))
GRID = (16, 64, 64)
TRAIN_SOURCES = ("spine", "chris")
TEST_SOURCES = ("icbm", "abdomen")
ICBM_FILES = ("RAS", "LAS", "LPS", "RPI", "PSR", "AIL")
LESION_RADIUS_HW = (5.0, 10.0)  # voxels, in-plane (see _lesion)
LESION_RADIUS_D = (2.0, 3.5)  # voxels, along D


def _load(rel):
    img = nib.load(os.path.join(DATA, rel))
    return np.asarray(img.dataobj, dtype=np.float32), img.affine


def _norm(v):
    p = np.percentile(v, 99.5)
    return np.clip(v / p, 0.0, 1.5).astype(np.float32)


def _body_mask(v):
    s = ndi.gaussian_filter(v, 1.5)
    m = s > 0.12
    m = ndi.binary_closing(m, iterations=2)
    m = ndi.binary_fill_holes(m)
    lab, n = ndi.label(m)
    if n > 1:
        sizes = ndi.sum(m, lab, range(1, n + 1))
        m = lab == (1 + int(np.argmax(sizes)))
    return m.astype(np.float32)


def _inpaint_markers(v):
    """The orientation test images carry burned-in markers (lines and a letter "R") at the
    maximum stored value; replace them by a normalised Gaussian average of the other voxels."""
    m = ndi.binary_dilation(v >= 0.95 * v.max(), iterations=1)  # marker + partial-volume rim
    keep = (~m).astype(np.float32)
    num = ndi.gaussian_filter(v * keep, 2.0)
    den = ndi.gaussian_filter(keep, 2.0)
    out = v.copy()
    out[m] = num[m] / np.maximum(den[m], 1e-3)
    return out


class Volume:
    """One real volume (or real pair): t1, stir (or None: synthesise), mask, slice axis, spacing."""

    def __init__(self, name, t1, stir, spacing, slice_axis):
        self.name, self.t1, self.stir = name, t1, stir
        self.spacing = np.asarray(spacing, np.float64)
        self.slice_axis = slice_axis
        self.mask = _body_mask(t1 if stir is None else np.maximum(t1, stir))


def load_sources(names):
    vols = []
    for name in names:
        if name == "spine":
            t1, a1 = _load("spine-cervical-sct/t1w.nii.gz")
            t2, a2 = _load("spine-cervical-sct/t2.nii.gz")
            ijk = np.indices(t1.shape).reshape(3, -1).astype(np.float64)
            world = a1[:3, :3] @ ijk + a1[:3, 3:]
            inv = np.linalg.inv(a2)
            q = inv[:3, :3] @ world + inv[:3, 3:]
            t2r = ndi.map_coordinates(t2, q, order=1, cval=-1.0).reshape(t1.shape)
            cov = t2r >= 0
            box = [np.where(cov.any(axis=tuple(j for j in range(3) if j != i)))[0] for i in range(3)]
            sl = tuple(slice(b[0], b[-1] + 1) for b in box)
            t1c, t2c, covc = t1[sl], np.where(cov, t2r, 0.0)[sl], cov[sl]
            t1n = _norm(t1c) * covc  # keep only where both sequences exist
            vols.append(Volume("spine", t1n, _norm(t2c), (1, 1, 1), 0))  # slices sagittal (R-L)
        elif name == "chris":
            v, a = _load("brain-t1-chris/chris_t1_1p76mm.nii.gz")
            vols.append(Volume("chris", _norm(v), None, (1.76,) * 3, 2))
        elif name == "icbm":
            for f in ICBM_FILES:
                v, a = _load(f"orientation-icbm152-48/{f}.nii.gz")
                v = _inpaint_markers(v)
                sp = np.sqrt((a[:3, :3] ** 2).sum(0))
                vols.append(Volume(f"icbm-{f}", _norm(v), None, sp, int(np.argmin(v.shape))))
        elif name == "abdomen":
            v, a = _load("abdomen-lumbar-totalseg/example_mr_sm.nii.gz")
            vols.append(Volume("abdomen", _norm(np.maximum(v, 0)), None, (3, 3, 3), 2))
        else:
            raise ValueError(name)
    return vols


def _rician(x, sigma, rng):
    n1 = rng.normal(0, sigma, x.shape)
    n2 = rng.normal(0, sigma, x.shape)
    return np.sqrt((x + n1) ** 2 + n2 ** 2).astype(np.float32)


def _smooth_field(shape, rng, amp, coarse=(3, 4, 4)):
    """exp(amp * f), f a smooth random field in [-1, 1]: cubic interpolation of a coarse grid."""
    f = rng.normal(0, 1, coarse)
    coords = np.meshgrid(*[np.linspace(0, c - 1, n) for c, n in zip(coarse, shape)], indexing="ij")
    f = ndi.map_coordinates(f, np.stack(coords).reshape(3, -1), order=3, mode="nearest").reshape(shape)
    f = f / (np.abs(f).max() + 1e-8)
    return np.exp(amp * f).astype(np.float32)


def _crop_coords(vol, rng):
    """Voxel coordinates (3, D, H, W) in the source volume for one random oblique-free crop."""
    shape = np.array(vol.t1.shape, np.float64)
    ax_d = vol.slice_axis
    ax_hw = [a for a in range(3) if a != ax_d]
    if rng.random() < 0.5:
        ax_hw = ax_hw[::-1]
    ext_mm = shape * vol.spacing
    fov = min(ext_mm[ax_hw[0]], ext_mm[ax_hw[1]]) * rng.uniform(0.55, 0.95)
    slab = min(ext_mm[ax_d] * 0.95, 0.35 * fov * rng.uniform(0.8, 1.25))
    size_vox = {ax_d: slab / vol.spacing[ax_d], ax_hw[0]: fov / vol.spacing[ax_hw[0]],
                ax_hw[1]: fov / vol.spacing[ax_hw[1]]}
    # centre: a random body voxel, then clamped so the box stays inside the volume
    idx = np.argwhere(vol.mask > 0)
    c = idx[rng.integers(len(idx))].astype(np.float64)
    axes = [ax_d] + ax_hw
    coords = []
    for a, n in zip(axes, GRID):
        half = size_vox[a] / 2.0
        lo = np.clip(c[a] - half, 0, max(shape[a] - 1 - 2 * half, 0))
        line = lo + np.linspace(0, 2 * half, n)
        if a != ax_d and rng.random() < 0.5:
            line = line[::-1]
        coords.append(line)
    g = np.meshgrid(*coords, indexing="ij")
    out = np.zeros((3,) + GRID)
    for a, gi in zip(axes, g):
        out[a] = gi
    return out


def _sample(arr, coords):
    return ndi.map_coordinates(arr, coords.reshape(3, -1), order=1, mode="nearest").reshape(GRID)


def _lesion(mask, rng):
    """Soft profile, binary mask and centre of one ellipsoid centred inside the (eroded) mask.
    Radii LESION_RADIUS_HW in-plane and LESION_RADIUS_D in depth: big enough that the lesion
    dilated by 2 voxels holds a node of the classifier's Grad-CAM grid (6.3 voxels apart
    in-plane, 1.9 in depth; an upsampled map peaks at a node)."""
    er = ndi.binary_erosion(mask > 0.5, iterations=3)
    if er.sum() < 20:
        er = mask > 0.5
    idx = np.argwhere(er)
    c = idx[rng.integers(len(idx))].astype(np.float64)
    r_hw = rng.uniform(*LESION_RADIUS_HW, 2)
    r_d = rng.uniform(*LESION_RADIUS_D)
    th = rng.uniform(0, np.pi)
    d, h, w = np.indices(GRID).astype(np.float64)
    dh, dw = h - c[1], w - c[2]
    u = np.cos(th) * dh + np.sin(th) * dw
    v = -np.sin(th) * dh + np.cos(th) * dw
    rho = np.sqrt(((d - c[0]) / r_d) ** 2 + (u / r_hw[0]) ** 2 + (v / r_hw[1]) ** 2)
    soft = 1.0 / (1.0 + np.exp((rho - 1.0) / 0.15))
    return (soft * mask).astype(np.float32), ((rho <= 1.0) & (mask > 0.5)), c


def _lesion_level(stir, mask, centre, rng):
    """STIR intensity of an oedema-like lesion: bright relative to the LOCAL tissue (1.5-3 x the
    smoothed body intensity around the centre) and at least about as bright as the brightest
    body tissue (1.1-1.4 x its 99th percentile): oedema is among the brightest signals on STIR."""
    body = mask > 0.5
    local = ndi.gaussian_filter(stir * mask, 3.0) / np.maximum(ndi.gaussian_filter(mask, 3.0), 1e-3)
    at = tuple(int(round(x)) for x in centre)
    p99 = float(np.percentile(stir[body], 99)) if body.any() else float(stir.max())
    return max(rng.uniform(1.5, 3.0) * float(local[at]), rng.uniform(1.1, 1.4) * p99)


def synth_stir(t1, mask, rng):
    gamma = rng.uniform(0.8, 1.6)
    gain = rng.uniform(0.7, 1.0)
    m = ndi.gaussian_filter(mask, 1.0)
    return (m * np.clip(1.0 - t1, 0, 1) ** gamma * gain).astype(np.float32)


def make_exam(vol, rng, lesion_prob=0.5, noise=(0.01, 0.03)):
    """One examination: dict with t1, stir (16x64x64 float32), mask, lesion (bool), label."""
    coords = _crop_coords(vol, rng)
    t1 = _sample(vol.t1, coords)
    mask = (_sample(vol.mask, coords) > 0.5).astype(np.float32)
    stir = _sample(vol.stir, coords) if vol.stir is not None else synth_stir(t1, mask, rng)
    label = int(rng.random() < lesion_prob and mask.sum() > 200)
    les = np.zeros(GRID, bool)
    if label:
        soft, les, centre = _lesion(mask, rng)
        level = _lesion_level(stir, mask, centre, rng)
        stir = stir + soft * np.maximum(level - stir, 0.0)  # raised to the level, never darkened
        t1 = t1 * (1.0 - rng.uniform(0.1, 0.4) * soft)  # oedema: hypointense on T1
        if les.sum() == 0:
            label = 0
    t1 = _rician(t1, rng.uniform(*noise), rng)
    stir = _rician(stir, rng.uniform(*noise), rng)
    return {"t1": t1, "stir": stir, "mask": mask, "lesion": les, "label": label, "source": vol.name}


def make_set(sources, n, seed, **kw):
    """n examinations, sources visited round-robin (so every source is represented)."""
    vols = load_sources(sources)
    rng = np.random.default_rng(seed)
    exams = [make_exam(vols[i % len(vols)] if sources[0] != "icbm" else vols[i % len(vols)], rng, **kw)
             for i in range(n)]
    return exams


def split_sets(n_train, n_val, n_test, seed):
    """The standard split: train/val from TRAIN_SOURCES, test from TEST_SOURCES (by source)."""
    train = make_set(TRAIN_SOURCES, n_train, seed * 1000 + 1)
    val = make_set(TRAIN_SOURCES, n_val, seed * 1000 + 2)
    # test: half icbm (six orientation files), half abdomen
    vols = load_sources(TEST_SOURCES)
    icbm = [v for v in vols if v.name.startswith("icbm")]
    abd = [v for v in vols if v.name == "abdomen"]
    rng = np.random.default_rng(seed * 1000 + 3)
    test = [make_exam(icbm[i // 2 % len(icbm)] if i % 2 == 0 else abd[0], rng) for i in range(n_test)]
    return train, val, test


def degrade(clean, rng, sigma=(0.03, 0.10), bias_amp=0.25):
    """Bias field x clean + Rician noise. Returns (input, target), both z-scored with the mean
    and standard deviation of the degraded input (the published denoiser's z-score
    preprocessing; the engine can compute it at inference)."""
    noisy = _rician(clean * _smooth_field(clean.shape, rng, bias_amp), rng.uniform(*sigma), rng)
    mu, sd = float(noisy.mean()), float(noisy.std()) + 1e-6
    return (noisy - mu) / sd, (clean - mu) / sd


def stack(exams, keys):
    return {k: np.stack([e[k] for e in exams]) for k in keys}


if __name__ == "__main__":
    import sys
    tr, va, te = split_sets(8, 4, 8, 0)
    for e in tr + te:
        print(e["source"], e["label"], int(e["lesion"].sum()), int(e["mask"].sum()),
              float(e["t1"].mean()), float(e["stir"].mean()))
    if len(sys.argv) > 1:
        np.savez_compressed(sys.argv[1], **stack(tr + te, ["t1", "stir", "mask", "lesion", "label"]))
