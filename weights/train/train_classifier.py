#!/usr/bin/python3
"""Train the demo dual-encoder 3D ResNet lesion classifier on CPU and measure Grad-CAM faithfulness.

Architecture: weights/models/dual_encoder.py (the published A3 design: one encoder with shared
weights over T1 and STIR, per-sequence global max pool, concat along depth, adaptive concat pool
max||avg, BN1d -> Dropout -> Linear -> ReLU -> BN1d -> Dropout -> Linear, softmax, index 1 =
lesion) with a small encoder: published stem (kernel 2x5x5, stride 1x3x3) at width 1/4, basic
blocks, layers [2, 2, 0, 0] (the last two stages are empty, so the last encoder stage's output
is 9x11x11 for a 16x64x64 input; with four stages it would be 3x3x3, too coarse for a Grad-CAM
that must fall inside a lesion a few voxels wide).
Preprocessing: each sequence divided by its own maximum (as the published classifier input).
Augmentation: random in-plane flips (H and/or W, the same for both sequences of an examination);
they made the held-out AUC and the Grad-CAM faithfulness better in short trials (the learned
lesion detectors become less tied to one side of the lesion).
Cut-off: Youden's J on the validation set (new crops of the training sources).
Grad-CAM (as the published code): hook the last encoder stage (`encoder.layer4`, one activation
per sequence since the encoder runs twice), gradient of the raw logit of the lesion class,
weights = mean gradient over D, H, W, map = ReLU(sum_c w_c A_c), trilinear resize
(align_corners=True) to 16x64x64. Faithful = argmax of the map lies inside the lesion mask
dilated by 2 voxels (Euclidean). Counted over held-out positives classified positive.
Run: /usr/bin/python3 weights/train/train_classifier.py [--smoke] [--out DIR] [--seed N]
"""
import time

import numpy as np
from scipy import ndimage as ndi

import common
import data
import torch
import torch.nn.functional as F
from models import build

CONFIG = {"arch": "dual_encoder",
          "kwargs": {"depth": None, "block": "basic", "layers": [2, 2, 0, 0], "width": 0.25,
                     "stem": "published", "stem_channels": 128, "hidden": 512, "num_outputs": 2,
                     "activation": "softmax"},
          "class_names": ["no lesion", "lesion"], "sequences": ["T1", "STIR"],
          "gradcam_layer": "encoder.layer4", "input_grid": list(data.GRID),
          "preprocessing": "per sequence: divide by the volume maximum"}


def tensors(exams):
    def prep(k):
        v = np.stack([e[k] for e in exams]).astype(np.float32)
        v = v / np.maximum(v.reshape(len(v), -1).max(1), 1e-6)[:, None, None, None]
        return torch.from_numpy(v[:, None])
    return prep("t1"), prep("stir"), torch.tensor([e["label"] for e in exams])


def flip_in_plane(t1, stir, gen):
    """Flip a batch along H and/or W, each with probability 0.5 (both sequences alike)."""
    for axis in (-2, -1):
        if torch.rand(1, generator=gen).item() < 0.5:
            t1, stir = t1.flip(axis), stir.flip(axis)
    return t1, stir


def predict(model, t1, stir, bs=32):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(t1), bs):
            out.append(torch.softmax(model(t1[i:i + bs], stir[i:i + bs]), 1)[:, 1])
    return torch.cat(out).numpy()


def gradcam(model, t1, stir, cls=1):
    """One Grad-CAM map per sequence, each resized to the input grid: (map_t1, map_stir)."""
    model.eval()
    acts = []
    h = model.encoder.layer4.register_forward_hook(lambda m, i, o: acts.append(o))
    try:
        logit = model(t1, stir)[0, cls]
        grads = torch.autograd.grad(logit, acts)
    finally:
        h.remove()
    maps = []
    for a, g in zip(acts, grads):
        w = g.mean(dim=(2, 3, 4), keepdim=True)
        cam = (w * a).sum(1, keepdim=True)
        cam = F.interpolate(cam, size=t1.shape[-3:], mode="trilinear", align_corners=True)
        maps.append(cam.clamp(min=0)[0, 0].detach().numpy())
    return maps


def main():
    args = common.parse_args(__doc__)
    common.setup(args.seed, args.threads)
    t0 = time.time()
    n_train, n_val, n_test, epochs, bs = (16, 8, 8, 1, 8) if args.smoke else (480, 80, 160, 16, 8)
    train, val, test = data.split_sets(n_train, n_val, n_test, args.seed)
    tr1, trs, ytr = tensors(train)
    model = build(CONFIG["arch"], **CONFIG["kwargs"])
    steps = epochs * ((n_train + bs - 1) // bs)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    g = torch.Generator().manual_seed(args.seed)
    t_train = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(n_train, generator=g)
        tot = 0.0
        for i in range(0, n_train, bs):
            idx = perm[i:i + bs]
            if len(idx) < 2:
                continue
            x1, x2 = flip_in_plane(tr1[idx], trs[idx], g)
            loss = F.cross_entropy(model(x1, x2), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(idx)
        print(f"epoch {ep} loss {tot / n_train:.4f} {time.time() - t_train:.0f}s", flush=True)
    train_seconds = time.time() - t_train

    va1, vas, yva = tensors(val)
    cut = common.youden_cutoff(predict(model, va1, vas), yva.numpy()) if n_val else 0.5
    te1, tes, yte = tensors(test)
    p = predict(model, te1, tes)
    y = yte.numpy().astype(bool)
    pred = p >= cut
    tp, tn = int((pred & y).sum()), int((~pred & ~y).sum())
    res = {"n": int(len(y)), "n_pos": int(y.sum()), "auc": round(common.auc(p, y), 4),
           "auc_ci95_bootstrap": [round(v, 4) for v in common.bootstrap_auc_ci(p, y, args.seed)],
           "cutoff_from_validation": round(cut, 4),
           "sensitivity": round(tp / max(int(y.sum()), 1), 4),
           "sensitivity_ci95": [round(v, 4) for v in common.clopper_pearson(tp, int(y.sum()))],
           "specificity": round(tn / max(int((~y).sum()), 1), 4),
           "specificity_ci95": [round(v, 4) for v in common.clopper_pearson(tn, int((~y).sum()))],
           "accuracy": round(float((pred == y).mean()), 4),
           "confusion": {"tp": tp, "fn": int(y.sum()) - tp, "tn": tn, "fp": int((~y).sum()) - tn}}
    by_source = {}
    for s in data.TEST_SOURCES:
        m = np.array([e["source"].split("-")[0] == s for e in test])
        by_source[s] = {"n": int(m.sum()), "auc": round(common.auc(p[m], y[m]), 4),
                        "sensitivity": round(float((pred[m] & y[m]).sum() / max(y[m].sum(), 1)), 4),
                        "specificity": round(float((~pred[m] & ~y[m]).sum() / max((~y[m]).sum(), 1)), 4)}
    res["by_source"] = by_source

    # Grad-CAM faithfulness on held-out true positives
    hits = {"stir": 0, "t1": 0, "sum": 0}
    n_tp = 0
    for i in np.where(pred & y)[0]:
        m_t1, m_stir = gradcam(model, te1[i:i + 1], tes[i:i + 1])
        les = test[i]["lesion"]
        near = ndi.distance_transform_edt(~les) <= 2.0
        for k, mp in (("stir", m_stir), ("t1", m_t1), ("sum", m_stir + m_t1)):
            hits[k] += bool(near[np.unravel_index(int(np.argmax(mp)), mp.shape)])
        n_tp += 1
    res["gradcam"] = {"n_true_positives": n_tp,
                      "faithful_fraction_stir_map": round(hits["stir"] / max(n_tp, 1), 4),
                      "faithful_fraction_t1_map": round(hits["t1"] / max(n_tp, 1), 4),
                      "faithful_fraction_sum_of_maps": round(hits["sum"] / max(n_tp, 1), 4),
                      "rule": "argmax of the map inside the lesion dilated by 2 voxels (Euclidean)",
                      "layer": CONFIG["gradcam_layer"]}
    metrics = {"model": "demo_classifier", "smoke": args.smoke, "seed": args.seed, "config": CONFIG,
               "params": sum(q.numel() for q in model.parameters()),
               "train": {"examinations": n_train, "validation": n_val, "sources": list(data.TRAIN_SOURCES),
                         "epochs": epochs, "batch": bs, "augmentation": "random in-plane flips (H, W)",
                         "final_epoch_loss": round(tot / n_train, 4)},
               "test": res, "test_sources": list(data.TEST_SOURCES), "train_seconds": round(train_seconds, 1)}
    common.save(args.out, "demo_classifier", model, CONFIG, metrics, t0)


if __name__ == "__main__":
    main()
