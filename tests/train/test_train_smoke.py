"""Smoke test of the demo training scripts: each runs one short epoch on tiny data (--smoke)
into a temporary folder and must write its weights, config and metrics.
Run: /usr/bin/python3 -m pytest tests/train -q"""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAIN = os.path.join(ROOT, "weights", "train")
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

torch = pytest.importorskip("torch")  # skipped, not passed, where torch is missing


@pytest.mark.parametrize("script,name,keys", [
    ("train_denoiser.py", "demo_denoiser", ["psnr_before", "psnr_after", "ssim_before", "ssim_after"]),
    ("train_classifier.py", "demo_classifier", ["auc", "sensitivity", "specificity", "gradcam"]),
    ("train_segmenter.py", "demo_segmenter", ["lesion_dice_pooled", "body_dice_mean"]),
])
def test_smoke(tmp_path, script, name, keys):
    r = subprocess.run([PY, os.path.join(TRAIN, script), "--smoke", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    for suffix in (".pt", ".config.json", ".metrics.json"):
        assert (tmp_path / f"{name}{suffix}").exists()
    m = json.loads((tmp_path / f"{name}.metrics.json").read_text())
    assert m["smoke"] is True
    test = m["test"]
    if name == "demo_denoiser":
        test = test["all"]
    for k in keys:
        assert k in test
    sd = torch.load(tmp_path / f"{name}.pt")
    assert len(sd) > 0
