"""The shipped demo models run in the engine exactly as in PyTorch with the same weights
(weights/train/out/*.pt are the trained state dicts the .vxm files were converted from),
on held-out synthetic examinations. Tolerance: 1e-4 x max(1, max |ref|); same argmax."""
import os
import sys

import numpy as np
import pytest
import torch

import voxinfer

SRC = os.environ["VX_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SRC, "weights", "train"))
import convert_demo  # noqa: E402
import data  # noqa: E402

OUT = os.path.join(SRC, "weights", "train", "out")


@pytest.fixture(scope="module")
def exams():
    _tr, _va, test = data.split_sets(0, 0, 4, seed=11)
    return test


def check(ref, got):
    tol = 1e-4 * max(1.0, float(np.abs(ref).max()))
    assert np.abs(ref - got).max() <= tol


def test_classifier(exams):
    m, _ = convert_demo.load(OUT, "demo_classifier")
    vx = voxinfer.Model(os.path.join(SRC, "weights", "demo_classifier.vxm"))
    for e in exams:
        t1 = (e["t1"] / e["t1"].max())[None, None].astype(np.float32)
        st = (e["stir"] / e["stir"].max())[None, None].astype(np.float32)
        with torch.no_grad():
            ref = m(torch.from_numpy(t1), torch.from_numpy(st)).numpy()
        got = vx.run(t1, st)
        check(ref, got)
        assert ref.argmax() == got.argmax()


def test_denoiser(exams):
    m, _ = convert_demo.load(OUT, "demo_denoiser")
    vx = voxinfer.Model(os.path.join(SRC, "weights", "demo_denoiser.vxm"))
    for e in exams[:2]:
        x = e["t1"]
        x = ((x - x.mean()) / x.std())[None, None].astype(np.float32)
        with torch.no_grad():
            ref = m(torch.from_numpy(x)).numpy()
        check(ref, vx.run(x))


def test_segmenter(exams):
    m, _ = convert_demo.load(OUT, "demo_segmenter")
    vx = voxinfer.Model(os.path.join(SRC, "weights", "demo_segmenter.vxm"))
    for e in exams[:2]:
        st = e["stir"] / e["stir"].max()
        for d in (3, 8, 12):
            x = st[d][None, None].astype(np.float32)
            with torch.no_grad():
                ref = m(torch.from_numpy(x)).numpy()
            got = vx.run(x)
            check(ref, got)
            margin = np.sort(ref, axis=1)[:, -1] - np.sort(ref, axis=1)[:, -2]
            clear = margin > 1e-3
            assert (ref.argmax(1)[clear] == got.argmax(1)[clear]).all()
