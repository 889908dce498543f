"""Model-file weights are resident once, not twice: after a run has reordered the conv weights
into oneDNN's layouts, their plain pages in the file mapping are given back (the mapping's
resident size drops), and results stay equal to PyTorch's: on later runs, on a Grad-CAM that
and for a second model whose file may be mapped at the freed
address (the conv cache must forget the first model's weights). Tolerance: 1e-4 x max|ref|."""
import os

import numpy as np
import pytest

import voxinfer

torch = pytest.importorskip("torch")
from convert import convert_torch  # noqa: E402  (weights/ is on PYTHONPATH)


def net(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv3d(1, 64, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv3d(64, 64, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv3d(64, 64, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv3d(64, 64, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv3d(64, 2, 1)).eval()


def mapping_rss_kb(path):
    """Resident kB of this process's mappings of `path` (from /proc/self/smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()
            if head and not head[0].endswith(":"):
                inside = line.rstrip().endswith(os.path.realpath(path))
            elif inside and head[0] == "Rss:":
                total += int(head[1])
    return total


def check(got, ref):
    assert np.abs(got.reshape(ref.shape) - ref).max() <= 1e-4 * max(1.0, float(np.abs(ref).max()))


def test_weight_pages_given_back_and_results_unchanged(tmp_path, monkeypatch):
    monkeypatch.setenv("VX_WARMUP", "0")  # the session's warm-up run would pack the weights before `before`
    x = torch.randn(1, 1, 8, 12, 12)
    paths, refs = [], []
    for seed in (1, 2):
        m = net(seed)
        p = str(tmp_path / f"net{seed}.vxm")
        convert_torch(m, x, p)
        with torch.no_grad():
            refs.append(m(x).numpy())
        paths.append(p)

    model = voxinfer.Model(paths[0], threads=1)
    before = mapping_rss_kb(paths[0])
    check(model.run(x.numpy()), refs[0])
    after = mapping_rss_kb(paths[0])
    print(f"model-file mapping resident: {before} kB before the first run, {after} kB after")
    assert before > 400  # the four 64x64x3x3x3 weights (432 kB) were resident after loading
    assert after < before / 2
    check(model.run(x.numpy()), refs[0])  # from the cache, plain pages not needed
    model.close()

    # A second model, possibly mapped where the first was: its own weights are used.
    second = voxinfer.Model(paths[1], threads=1)
    check(second.run(x.numpy()), refs[1])
    second.close()
