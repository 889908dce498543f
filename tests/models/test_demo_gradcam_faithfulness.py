"""Grad-CAM faithfulness of the SHIPPED demo classifier (issue #10), computed by the engine.

Held-out examinations (test sources icbm + abdomen, which training never sees; a fixed seed
other than the training seed, so these are new crops and new lesions) run through
weights/demo_classifier.vxm. Among the examinations WITH an inserted lesion that the engine
classifies positive (softmax lesion probability >= the cut-off of the card, read from
weights/train/out/demo_classifier.metrics.json), a map is faithful when its argmax lies inside
the lesion dilated by 2 voxels (Euclidean distance to the lesion <= 2).

Rule: the fraction of faithful STIR maps (the map of the encoder's STIR application, target
class 1 = lesion) must be >= 0.90, with at least MIN_TRUE_POSITIVES cases so that the fraction
means something. The T1 map and the sum of the two raw maps are computed and printed too (the
engine returns each map scaled to [0, 1]; raw = map x raw_max, since a ReLU'd map has minimum 0).
"""
import json
import os
import sys

import numpy as np
import pytest
from scipy import ndimage as ndi

import voxinfer

SRC = os.environ["VX_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SRC, "weights", "train"))
import data  # noqa: E402

MODEL = os.path.join(SRC, "weights", "demo_classifier.vxm")
METRICS = os.path.join(SRC, "weights", "train", "out", "demo_classifier.metrics.json")
N_EXAMS = 100  # about 50 with a lesion; under a minute on one core
SEED = 5  # training uses seed 0
TARGET = 0.90
MIN_TRUE_POSITIVES = 15


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def faithful(cam, near):
    return bool(near[np.unravel_index(int(np.argmax(cam)), cam.shape)])


@pytest.fixture(scope="module")
def results():
    with open(METRICS) as f:
        cut = json.load(f)["test"]["cutoff_from_validation"]
    model = voxinfer.Model(MODEL)
    _tr, _va, exams = data.split_sets(0, 0, N_EXAMS, seed=SEED)
    hits = {"stir": [], "t1": [], "sum": []}
    for e in exams:
        if not e["label"]:
            continue
        t1 = (e["t1"] / e["t1"].max())[None, None].astype(np.float32)
        st = (e["stir"] / e["stir"].max())[None, None].astype(np.float32)
        if softmax(model.run(t1, st)[0])[1] < cut:
            continue
        maps = model.gradcam([t1, st], target=1)
        assert len(maps) == 2, "one map per sequence (T1, STIR) expected"
        m_t1, m_st = (np.array(m) for m in maps)
        near = ndi.distance_transform_edt(~e["lesion"]) <= 2.0
        hits["t1"].append(faithful(m_t1, near))
        hits["stir"].append(faithful(m_st, near))
        hits["sum"].append(faithful(m_t1 * maps.raw_max[0] + m_st * maps.raw_max[1], near))
    return hits


def test_stir_map_faithful(results):
    n = len(results["stir"])
    fractions = {k: round(float(np.mean(v)), 4) if v else None for k, v in results.items()}
    print(f"true positives {n}; faithful fraction per map: {fractions}")
    assert n >= MIN_TRUE_POSITIVES, f"only {n} held-out true positives: the classifier misses most lesions"
    assert fractions["stir"] >= TARGET, fractions
