"""Validation statistics as the published studies report them.

AUC with a bootstrap 95% CI; sensitivity, specificity and accuracy at a cut-off (given, or
chosen on a validation subset) with Clopper-Pearson 95% CIs; confusion matrices; Dice/IoU
summaries; Fleiss' kappa. NumPy only (no SciPy), so the tests can check every number against
an independent SciPy computation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, asdict

import numpy as np


def _as_binary(labels) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0:
        raise ValueError("labels must be a non-empty 1-D array")
    if not np.isin(y, [0, 1]).all():
        raise ValueError("labels must be 0 or 1")
    return y.astype(np.int64)


def _as_scores(scores, n: int) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (n,):
        raise ValueError(f"scores must have shape ({n},), got {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite")
    return s


def roc_curve(scores, labels):
    """False- and true-positive rates at every distinct threshold (descending), from (0,0) to (1,1)."""
    y = _as_binary(labels)
    s = _as_scores(scores, y.size)
    pos, neg = int(y.sum()), int(y.size - y.sum())
    if pos == 0 or neg == 0:
        raise ValueError("ROC needs both positive and negative cases")
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    # Cut only between distinct scores, so tied cases move together (the ROC's diagonal steps).
    last_of_run = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]
    tp = np.cumsum(y)[last_of_run]
    fp = (last_of_run + 1) - tp
    tpr = np.r_[0.0, tp / pos]
    fpr = np.r_[0.0, fp / neg]
    thresholds = np.r_[np.inf, s[last_of_run]]
    return fpr, tpr, thresholds


def auc(scores, labels) -> float:
    """Area under the ROC curve by the trapezoid rule (ties count one half)."""
    fpr, tpr, _ = roc_curve(scores, labels)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def bootstrap_auc_ci(scores, labels, n_boot: int = 2000, level: float = 0.95, seed: int = 0):
    """Percentile bootstrap CI of the AUC, resampling cases; resamples with one class are redrawn."""
    y = _as_binary(labels)
    s = _as_scores(scores, y.size)
    rng = np.random.default_rng(seed)
    values = []
    while len(values) < n_boot:
        idx = rng.integers(0, y.size, y.size)
        if 0 < y[idx].sum() < y.size:
            values.append(auc(s[idx], y[idx]))
    lo, hi = np.quantile(values, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def _binom_tail_ge(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space."""
    if k <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p)
            + (n - i) * math.log1p(-p) for i in range(k, n + 1)]
    m = max(logs)
    return min(1.0, math.exp(m) * sum(math.exp(v - m) for v in logs))


def _bisect(f, target: float, increasing: bool) -> float:
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if (f(mid) < target) == increasing:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def clopper_pearson(k: int, n: int, level: float = 0.95):
    """Exact binomial CI: the p where P(X >= k) and P(X <= k) equal (1 - level) / 2."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    a = (1 - level) / 2
    lower = 0.0 if k == 0 else _bisect(lambda p: _binom_tail_ge(k, n, p), a, increasing=True)
    upper = 1.0 if k == n else _bisect(lambda p: 1.0 - _binom_tail_ge(k + 1, n, p), a, increasing=False)
    return lower, upper


@dataclass
class Proportion:
    k: int
    n: int
    value: float
    ci_low: float
    ci_high: float


def proportion(k: int, n: int, level: float = 0.95) -> Proportion:
    lo, hi = clopper_pearson(k, n, level)
    return Proportion(int(k), int(n), k / n, lo, hi)


def confusion_matrix(predicted, labels):
    """[[TN, FP], [FN, TP]] for binary predictions."""
    y = _as_binary(labels)
    p = _as_binary(predicted)
    if p.size != y.size:
        raise ValueError("predicted and labels differ in length")
    return [[int(((p == 0) & (y == 0)).sum()), int(((p == 1) & (y == 0)).sum())],
            [int(((p == 0) & (y == 1)).sum()), int(((p == 1) & (y == 1)).sum())]]


def youden_cutoff(scores, labels) -> float:
    """The threshold maximising sensitivity + specificity - 1 (ties: the highest threshold)."""
    fpr, tpr, thr = roc_curve(scores, labels)
    j = tpr - fpr
    best = int(np.argmax(j[1:])) + 1  # skip the +inf start point
    return float(thr[best])


def classification_summary(scores, labels, cutoff: float, level: float = 0.95) -> dict:
    """Sensitivity, specificity, accuracy (Clopper-Pearson CIs) and the confusion matrix at `cutoff` (score >= cutoff is positive)."""
    y = _as_binary(labels)
    s = _as_scores(scores, y.size)
    pred = (s >= cutoff).astype(np.int64)
    (tn, fp), (fn, tp) = confusion_matrix(pred, y)
    out = {"cutoff": float(cutoff), "confusion_matrix": [[tn, fp], [fn, tp]]}
    if tp + fn:
        out["sensitivity"] = asdict(proportion(tp, tp + fn, level))
    if tn + fp:
        out["specificity"] = asdict(proportion(tn, tn + fp, level))
    out["accuracy"] = asdict(proportion(tp + tn, y.size, level))
    return out


def dice(a, b) -> float:
    a, b = np.asarray(a) > 0, np.asarray(b) > 0
    if a.shape != b.shape:
        raise ValueError(f"mask shapes differ: {a.shape} vs {b.shape}")
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else float(2.0 * (a & b).sum() / total)


def iou(a, b) -> float:
    a, b = np.asarray(a) > 0, np.asarray(b) > 0
    if a.shape != b.shape:
        raise ValueError(f"mask shapes differ: {a.shape} vs {b.shape}")
    union = (a | b).sum()
    return 1.0 if union == 0 else float((a & b).sum() / union)


def summary(values) -> dict:
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return {"n": 0}
    q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
    return {"n": int(v.size), "mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            "median": float(med), "q1": float(q1), "q3": float(q3), "min": float(v.min()), "max": float(v.max())}


def fleiss_kappa(ratings) -> float:
    """Fleiss' kappa from an (items x categories) table of how many raters chose each category.

    Every item must have the same number of raters (at least 2)."""
    t = np.asarray(ratings, dtype=np.float64)
    if t.ndim != 2 or t.shape[0] < 1 or t.shape[1] < 2:
        raise ValueError("ratings must be an (items x categories) table with at least 2 categories")
    raters = t.sum(axis=1)
    if not np.allclose(raters, raters[0]) or raters[0] < 2:
        raise ValueError("every item needs the same number (>= 2) of raters")
    n = raters[0]
    p_cat = t.sum(axis=0) / t.sum()
    p_item = ((t * t).sum(axis=1) - n) / (n * (n - 1))
    p_bar, p_e = p_item.mean(), (p_cat * p_cat).sum()
    if p_e == 1.0:
        raise ValueError("kappa is undefined when every rating falls in one category")
    return float((p_bar - p_e) / (1.0 - p_e))


def ratings_table(labels_by_rater, categories=None) -> np.ndarray:
    """(raters x items) labels -> (items x categories) counts for fleiss_kappa."""
    r = np.asarray(labels_by_rater)
    if r.ndim != 2:
        raise ValueError("labels_by_rater must be (raters x items)")
    cats = np.unique(r) if categories is None else np.asarray(categories)
    return np.stack([(r == c).sum(axis=0) for c in cats], axis=1)
