"""Writes checkpoints the way nnU-Net v2's nnUNetTrainer.save_checkpoint does (torch.save of a
dict with these keys), for tests: random weights, an SGD optimizer state after one step, the
logger's lists of numpy floats, init_args with the plans, dataset.json and a torch.device."""
import time

import numpy as np
import torch


def nnunet_checkpoint(network, plans, configuration, fold, dataset_json, mirror_axes=(0, 1, 2),
                      trainer_name="nnUNetTrainer"):
    opt = torch.optim.SGD(network.parameters(), lr=1e-2, momentum=0.99, nesterov=True, weight_decay=3e-5)
    for p in network.parameters():
        p.grad = torch.full_like(p, 1e-3)
    opt.step()
    opt.zero_grad(set_to_none=True)
    ema = np.float64(0.5) * np.float64(0.8123)
    logging = {"mean_fg_dice": [np.float64(0.8123)], "ema_fg_dice": [ema],
               "dice_per_class_or_region": [[0.8, 0.82]], "train_losses": [np.float32(-0.5).item()],
               "val_losses": [np.float32(-0.4).item()], "lrs": [1e-2],
               "epoch_start_timestamps": [time.time()], "epoch_end_timestamps": [time.time()],
               "class_counts": np.array([10, 20], dtype=np.int64)}
    return {
        "network_weights": network.state_dict(),
        "optimizer_state": opt.state_dict(),
        "grad_scaler_state": {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                              "growth_interval": 2000, "_growth_tracker": 3},
        "logging": logging,
        "_best_ema": ema,
        "current_epoch": 1000,
        "init_args": {"plans": plans, "configuration": configuration, "fold": fold,
                      "dataset_json": dataset_json, "device": torch.device("cuda", 0)},
        "trainer_name": trainer_name,
        "inference_allowed_mirroring_axes": tuple(mirror_axes),
    }


def save_nnunet_checkpoint(path, *args, **kwargs):
    torch.save(nnunet_checkpoint(*args, **kwargs), path)
