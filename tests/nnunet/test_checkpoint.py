"""weights/nnunet/checkpoint.py reads nnU-Net checkpoints through an allow-list unpickler and
refuses anything else before it runs."""
import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

from nnunet.checkpoint import CheckpointError, load_checkpoint
from nnunet_checkpoint_writer import save_nnunet_checkpoint

torch.set_num_threads(1)


def small_net():
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Conv3d(1, 4, 3), torch.nn.InstanceNorm3d(4, affine=True),
                               torch.nn.LeakyReLU(0.01), torch.nn.ConvTranspose3d(4, 2, 2, 2))


def test_nnunet_checkpoint_loads_equal_to_torch_load(tmp_path):
    net = small_net()
    path = tmp_path / "checkpoint_final.pth"
    save_nnunet_checkpoint(path, net, {"plans_name": "nnUNetPlans"}, "3d_fullres", 0, {"labels": {"background": 0}})
    mine = load_checkpoint(str(path))
    ref = torch.load(str(path), map_location="cpu")
    assert set(mine) == set(ref) == {"network_weights", "optimizer_state", "grad_scaler_state", "logging", "_best_ema",
                                     "current_epoch", "init_args", "trainer_name", "inference_allowed_mirroring_axes"}
    assert list(mine["network_weights"]) == list(net.state_dict())
    for k, v in ref["network_weights"].items():
        assert mine["network_weights"][k].dtype == v.dtype and torch.equal(mine["network_weights"][k], v), k
    for k, st in ref["optimizer_state"]["state"].items():
        assert torch.equal(mine["optimizer_state"]["state"][k]["momentum_buffer"], st["momentum_buffer"])
    assert mine["optimizer_state"]["param_groups"] == ref["optimizer_state"]["param_groups"]
    assert mine["_best_ema"] == ref["_best_ema"] and isinstance(mine["_best_ema"], np.float64)
    np.testing.assert_array_equal(mine["logging"]["class_counts"], ref["logging"]["class_counts"])
    assert mine["logging"]["mean_fg_dice"] == ref["logging"]["mean_fg_dice"]
    assert mine["init_args"]["device"] == torch.device("cuda", 0)
    assert mine["init_args"]["configuration"] == "3d_fullres" and mine["init_args"]["fold"] == 0
    assert mine["inference_allowed_mirroring_axes"] == (0, 1, 2)
    assert mine["grad_scaler_state"] == ref["grad_scaler_state"]
    net.load_state_dict(mine["network_weights"], strict=True)


def test_shared_and_offset_storages(tmp_path):
    base = torch.arange(24, dtype=torch.float32)
    obj = {"a": base[4:16].view(3, 4), "b": base[4:16].view(3, 4).t(), "c": torch.tensor([True, False]),
           "d": torch.arange(5, dtype=torch.int64), "e": torch.zeros(0), "f": torch.tensor(2.5, dtype=torch.float16)}
    path = tmp_path / "views.pth"
    torch.save(obj, path)
    mine = load_checkpoint(str(path))
    for k, v in obj.items():
        assert mine[k].dtype == v.dtype and mine[k].shape == v.shape and torch.equal(mine[k], v), k


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_os_system_payload_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"network_weights": {}, "trainer_name": Payload(marker)}, path)
    with pytest.raises(CheckpointError, match=r"(posix|os|nt)\.system.*allow-list"):
        load_checkpoint(str(path))
    assert not marker.exists()


def test_unknown_class_named_in_the_error(tmp_path):
    path = tmp_path / "odd.pth"
    torch.save({"x": torch.nn.ReLU()}, path)
    with pytest.raises(CheckpointError, match=r"torch\.nn\.modules\.activation\.ReLU"):
        load_checkpoint(str(path))


def test_storage_bytes_shorter_than_declared_is_an_error(tmp_path):
    path, bad = tmp_path / "ok.pth", tmp_path / "bad.pth"
    torch.save({"w": torch.ones(8)}, path)
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(bad, "w") as zout:
        for n in zin.namelist():
            data = zin.read(n)
            zout.writestr(n, data[:-4] if "/data/" in n else data)
    with pytest.raises(CheckpointError, match="bytes, expected 8"):
        load_checkpoint(str(bad))


def test_not_a_zip_is_a_clear_error(tmp_path):
    path = tmp_path / "legacy.pth"
    with open(path, "wb") as f:
        pickle.dump({"a": 1}, f)
    with pytest.raises(CheckpointError, match="not a torch zip checkpoint"):
        load_checkpoint(str(path))


def test_view_outside_its_storage_is_an_error():
    from nnunet.checkpoint import _rebuild_tensor
    storage = torch.arange(10, dtype=torch.float32)
    assert torch.equal(_rebuild_tensor(storage, 2, (2, 4), (4, 1)), storage[2:10].view(2, 4))
    with pytest.raises(CheckpointError, match="outside its storage"):
        _rebuild_tensor(storage, 4, (2, 4), (4, 1))  # last element 4 + 7 = 11 >= 10
    with pytest.raises(CheckpointError, match="outside its storage"):
        _rebuild_tensor(storage, 0, (3,), (-1,))
