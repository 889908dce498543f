#!/usr/bin/python3
"""Train the demo 2D U-Net lesion segmenter (slice-wise) on CPU.

Architecture: weights/models/unet2d.py (the published hip design B: two 3x3 conv + BN + ReLU per
level, 2x2 max-pool, 2x2 transposed conv up, skip concat, 1x1 head) with base 8 channels and
3 levels; input one STIR slice (64x64, the volume divided by its maximum), 3 classes:
0 background, 1 body (the body mask, the part the femoral head plays in the hip model: the
reference area for a lesion-fraction score), 2 lesion.
Training slices: every lesion-bearing slice of the training examinations plus twice as many random
lesion-free slices. Loss: cross-entropy (lesion class weight 5) + soft Dice on the lesion class.
Test: every slice of the held-out examinations (sources icbm + abdomen); slice predictions are
stacked back into volumes; lesion Dice per positive volume (mean) and pooled over all voxels,
body Dice, and the false-positive rate of lesion-free test volumes (any lesion voxel predicted).
Run: /usr/bin/python3 weights/train/train_segmenter.py [--smoke] [--out DIR] [--seed N]
"""
import time

import numpy as np

import common
import data
import torch
import torch.nn.functional as F
from models import build

CONFIG = {"arch": "unet2d", "kwargs": {"in_channels": 1, "num_classes": 3, "base": 8, "depth": 3},
          "class_names": ["background", "body", "lesion"], "sequences": ["STIR"],
          "input_size": [64, 64], "preprocessing": "STIR volume divided by its maximum; slice-wise along D"}


CE_WEIGHT = torch.tensor([1.0, 1.0, 5.0])  # lesion voxels are rare


def slices(exams):
    x, y = [], []
    for e in exams:
        v = e["stir"] / max(float(e["stir"].max()), 1e-6)
        lab = e["mask"].astype(np.int64)
        lab[e["lesion"]] = 2
        x.append(v)
        y.append(lab)
    return np.stack(x).astype(np.float32), np.stack(y)  # (N, D, H, W)


def main():
    args = common.parse_args(__doc__)
    common.setup(args.seed, args.threads)
    t0 = time.time()
    n_train, n_test, epochs, bs = (6, 4, 1, 8) if args.smoke else (200, 80, 8, 4)
    train, _, test = data.split_sets(n_train, 0, n_test, args.seed)
    xv, yv = slices(train)
    xs, ys = xv.reshape(-1, 64, 64), yv.reshape(-1, 64, 64)
    has = (ys == 2).any(axis=(1, 2))
    rng = np.random.default_rng(args.seed * 7919 + 21)
    neg = rng.permutation(np.where(~has)[0])[:max(2 * int(has.sum()), 4)]
    sel = np.concatenate([np.where(has)[0], neg])
    xs, ys = torch.from_numpy(xs[sel][:, None]), torch.from_numpy(ys[sel])
    n = len(sel)
    model = build(CONFIG["arch"], **CONFIG["kwargs"])
    steps = epochs * ((n + bs - 1) // bs)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    g = torch.Generator().manual_seed(args.seed)
    t_train = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        tot = 0.0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            if len(idx) < 2:
                continue
            x, y = xs[idx], ys[idx]
            if torch.rand(1, generator=g).item() < 0.5:  # in-plane flip augmentation
                x, y = x.flip(-1), y.flip(-1)
            logits = model(x)
            p = torch.softmax(logits, 1)[:, 2]
            t = (y == 2).float()
            soft_dice = 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)
            loss = F.cross_entropy(logits, y, weight=CE_WEIGHT) + soft_dice
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(idx)
        print(f"epoch {ep} loss {tot / n:.4f} slices {n} {time.time() - t_train:.0f}s", flush=True)
    train_seconds = time.time() - t_train

    model.eval()
    xt, yt = slices(test)
    with torch.no_grad():
        pred = np.stack([model(torch.from_numpy(v[:, None])).argmax(1).numpy() for v in xt])
    les_d, body_d, fp_vols, neg_n = [], [], 0, 0
    by_src = {s: [] for s in data.TEST_SOURCES}
    for e, pv, yv_ in zip(test, pred, yt):
        body_d.append(common.dice(pv >= 1, yv_ >= 1))
        if e["label"]:
            d = common.dice(pv == 2, yv_ == 2)
            les_d.append(d)
            by_src[e["source"].split("-")[0]].append(d)
        else:
            neg_n += 1
            fp_vols += int((pv == 2).any())
    pos = np.array([e["label"] for e in test], bool)
    pooled = common.dice(pred[pos] == 2, yt[pos] == 2) if pos.any() else float("nan")
    res = {"volumes": len(test), "positive_volumes": int(pos.sum()),
           "lesion_dice_mean_per_volume": round(float(np.mean(les_d)), 4) if les_d else None,
           "lesion_dice_median_per_volume": round(float(np.median(les_d)), 4) if les_d else None,
           "lesion_dice_pooled": round(pooled, 4),
           "lesion_dice_by_source": {s: round(float(np.mean(v)), 4) if v else None for s, v in by_src.items()},
           "body_dice_mean": round(float(np.mean(body_d)), 4),
           "negative_volumes_with_any_lesion_voxel": f"{fp_vols}/{neg_n}"}
    metrics = {"model": "demo_segmenter", "smoke": args.smoke, "seed": args.seed, "config": CONFIG,
               "params": sum(q.numel() for q in model.parameters()),
               "train": {"examinations": n_train, "slices": n, "sources": list(data.TRAIN_SOURCES),
                         "epochs": epochs, "batch": bs, "final_epoch_loss": round(tot / n, 4)},
               "test": res, "test_sources": list(data.TEST_SOURCES), "train_seconds": round(train_seconds, 1)}
    common.save(args.out, "demo_segmenter", model, CONFIG, metrics, t0)


if __name__ == "__main__":
    main()
