"""voxinfer.stats against independent SciPy computations and the published confidence intervals."""
import numpy as np
import pytest
from scipy import stats as sst

from voxinfer import stats


def test_auc_equals_mann_whitney_with_ties():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.normal(size=300) + 0.8 * y, 1)  # rounding makes many ties
    u = sst.mannwhitneyu(s[y == 1], s[y == 0]).statistic
    assert stats.auc(s, y) == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()), abs=1e-12)


def test_auc_extremes_and_errors():
    assert stats.auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert stats.auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    with pytest.raises(ValueError):
        stats.auc([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError):
        stats.auc([0.1, np.nan], [0, 1])


@pytest.mark.parametrize("k,n", [(0, 10), (3, 10), (10, 10), (65, 91), (1, 1), (50, 500)])
def test_clopper_pearson_equals_beta_quantiles(k, n):
    lo, hi = stats.clopper_pearson(k, n)
    ref_lo = 0.0 if k == 0 else sst.beta.ppf(0.025, k, n - k + 1)
    ref_hi = 1.0 if k == n else sst.beta.ppf(0.975, k + 1, n - k)
    assert lo == pytest.approx(ref_lo, abs=1e-9)
    assert hi == pytest.approx(ref_hi, abs=1e-9)


# The published studies' intervals, to the printed precision (whole percent).
@pytest.mark.parametrize("k,n,lo,hi", [(22, 25, 69, 97), (65, 91, 61, 80), (87, 116, 66, 83), (26, 27, 81, 100)])
def test_clopper_pearson_matches_published(k, n, lo, hi):
    a, b = stats.clopper_pearson(k, n)
    assert round(100 * a) == lo and round(100 * b) == hi


def test_bootstrap_ci_brackets_auc_and_is_seeded():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 120)
    s = rng.normal(size=120) + y
    lo, hi = stats.bootstrap_auc_ci(s, y, n_boot=500, seed=3)
    assert lo < stats.auc(s, y) < hi
    assert (lo, hi) == stats.bootstrap_auc_ci(s, y, n_boot=500, seed=3)


def test_classification_summary_and_confusion():
    y = np.array([1, 1, 1, 0, 0, 0, 0])
    s = np.array([0.9, 0.6, 0.3, 0.7, 0.2, 0.1, 0.4])
    out = stats.classification_summary(s, y, cutoff=0.5)
    assert out["confusion_matrix"] == [[3, 1], [1, 2]]
    assert out["sensitivity"]["value"] == pytest.approx(2 / 3)
    assert out["specificity"]["value"] == pytest.approx(3 / 4)
    assert out["accuracy"]["value"] == pytest.approx(5 / 7)
    cut = stats.youden_cutoff(s, y)
    pred = (s >= cut).astype(int)
    j = pred[y == 1].mean() - pred[y == 0].mean()
    for t in s:  # no other threshold does better
        p = (s >= t).astype(int)
        assert p[y == 1].mean() - p[y == 0].mean() <= j + 1e-12


def test_fleiss_kappa_textbook_example():
    # Fleiss (1971) / Wikipedia worked example: 10 items, 14 raters, 5 categories -> kappa 0.210.
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert stats.fleiss_kappa(table) == pytest.approx(0.210, abs=5e-4)
    perfect = stats.ratings_table([[0, 1, 1, 0], [0, 1, 1, 0], [0, 1, 1, 0]])
    assert stats.fleiss_kappa(perfect) == pytest.approx(1.0)


def test_dice_iou():
    a = np.zeros((4, 4), bool); a[:2] = True
    b = np.zeros((4, 4), bool); b[1:3] = True
    assert stats.dice(a, b) == pytest.approx(2 * 4 / 16)
    assert stats.iou(a, b) == pytest.approx(4 / 12)
    assert stats.dice(np.zeros(3), np.zeros(3)) == 1.0
