"""weights/models/nnunet_networks.py against dynamic-network-architectures: the state_dict keys
(names and order) are those DNA's PlainConvUNet / ResidualEncoderUNet give for the same arch_kwargs
(data/dna_reference.json, written from DNA itself; outputs were equal to 0.0 there, see
README.md); plans of the old layout build the same network; anything else is a clear error."""
import copy
import json
import os

import pytest
import torch

from models.nnunet_networks import (NnunetArchitectureError, architecture_of, build_from_architecture,
                                    build_from_plans, resolve_configuration)
import make_nnunet_folder as mk

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
DNA = json.load(open(os.path.join(HERE, "data", "dna_reference.json")))
IMPORTS = ["conv_op", "norm_op", "dropout_op", "nonlin"]


@pytest.mark.parametrize("name", sorted(DNA["configs"]))
def test_state_dict_keys_equal_dynamic_network_architectures(name):
    cls, kwargs, shape = DNA["configs"][name]
    net = build_from_architecture(cls, kwargs, IMPORTS, shape[1], 3).eval()
    assert list(net.state_dict()) == DNA["keys"][name]
    with torch.no_grad():
        y = net(torch.randn(shape))
    assert tuple(y.shape) == (shape[0], 3) + tuple(shape[2:])


def test_residual_block_structure():
    cls, kwargs, shape = DNA["configs"]["resenc3d"]
    net = build_from_architecture(cls, kwargs, IMPORTS, 1, 3)
    b = net.encoder.stages[1].blocks[0]  # stride 2, 4 -> 8 channels: AvgPool(2, 2) then 1x1 conv-norm
    assert isinstance(b.skip[0], torch.nn.AvgPool3d) and b.skip[0].kernel_size == [2, 2, 2]
    assert b.skip[1].conv.kernel_size == (1, 1, 1) and b.skip[1].conv.bias is None
    assert net.encoder.stages[1].blocks[1].skip is None  # identity: no module, no keys
    assert net.decoder.encoder is net.encoder


def test_old_plans_layout_builds_the_same_network():
    plans = mk.plain_plans()
    conf = plans["configurations"]["3d_fullres"]
    ak = conf.pop("architecture")["arch_kwargs"]
    conf.update({"UNet_class_name": "PlainConvUNet", "UNet_base_num_features": 4, "unet_max_num_features": 16,
                 "n_conv_per_stage_encoder": ak["n_conv_per_stage"], "n_conv_per_stage_decoder": ak["n_conv_per_stage_decoder"],
                 "num_pool_per_axis": [2, 3, 3], "pool_op_kernel_sizes": ak["strides"], "conv_kernel_sizes": ak["kernel_sizes"]})
    old = build_from_plans(plans, "3d_fullres", 2, 3)
    new = build_from_plans(mk.plain_plans(), "3d_fullres", 2, 3)
    assert list(old.state_dict()) == list(new.state_dict())
    assert [v.shape for v in old.state_dict().values()] == [v.shape for v in new.state_dict().values()]
    name, _, _ = architecture_of(resolve_configuration(plans, "3d_fullres"))
    assert name.endswith("PlainConvUNet")


def test_inherits_from_is_resolved():
    plans = mk.plain_plans()
    plans["configurations"]["3d_lowres"] = {"inherits_from": "3d_fullres", "spacing": [6.0, 2.0, 2.0]}
    c = resolve_configuration(plans, "3d_lowres")
    assert c["spacing"] == [6.0, 2.0, 2.0] and c["patch_size"] == [16, 32, 32]
    plans["configurations"]["3d_fullres"]["inherits_from"] = "3d_lowres"
    with pytest.raises(NnunetArchitectureError, match="circle"):
        resolve_configuration(plans, "3d_lowres")


def test_checkpoint_of_a_folder_loads_strict(tmp_path):
    from nnunet.checkpoint import load_checkpoint
    d = mk.make_resenc_folder(str(tmp_path))
    ck = load_checkpoint(os.path.join(d, "fold_0", "checkpoint_final.pth"))
    net = build_from_plans(ck["init_args"]["plans"], "3d_fullres", 2, 3)
    net.load_state_dict(ck["network_weights"], strict=True)


def test_custom_network_class_is_named():
    plans = mk.plain_plans()
    plans["configurations"]["3d_fullres"]["architecture"]["network_class_name"] = "my_lab.nets.FancyUNet"
    with pytest.raises(NnunetArchitectureError, match=r"my_lab\.nets\.FancyUNet"):
        build_from_plans(plans, "3d_fullres", 2, 3)


def test_unknown_imported_class_is_named():
    plans = mk.plain_plans()
    plans["configurations"]["3d_fullres"]["architecture"]["arch_kwargs"]["nonlin"] = "os.system"
    with pytest.raises(NnunetArchitectureError, match=r"nonlin = 'os\.system'"):
        build_from_plans(plans, "3d_fullres", 2, 3)


def test_missing_configuration_is_named():
    with pytest.raises(NnunetArchitectureError, match="3d_cascade_fullres"):
        build_from_plans(mk.plain_plans(), "3d_cascade_fullres", 2, 3)


def test_deep_supervision_is_off():
    plans = copy.deepcopy(mk.plain_plans())
    plans["configurations"]["2d"]["architecture"]["arch_kwargs"]["deep_supervision"] = True
    net = build_from_plans(plans, "2d", 2, 3).eval()
    with torch.no_grad():
        assert net(torch.randn(1, 2, 32, 32)).shape == (1, 3, 32, 32)


@pytest.mark.parametrize("name", sorted(DNA["configs"]))
def test_outputs_equal_dynamic_network_architectures(name):
    """DNA's outputs for seeded weights and input, recorded from DNA (data/dna_reference.json)."""
    cls, kwargs, shape = DNA["configs"][name]
    net = build_from_architecture(cls, kwargs, IMPORTS, shape[1], 3).eval()
    torch.manual_seed(0)
    net.load_state_dict({k: torch.randn_like(v) * 0.3 if v.is_floating_point() else v
                         for k, v in net.state_dict().items()})
    torch.manual_seed(1)
    x = torch.randn(shape)
    with torch.no_grad():
        y = net(x).double().flatten()
    ref = DNA["outputs"][name]
    scale = max(1.0, max(abs(v) for v in ref["values"]))
    assert abs(y.mean().item() - ref["mean"]) <= 1e-5 * scale
    assert abs(y.std().item() - ref["std"]) <= 1e-5 * scale
    for i, v in zip(ref["index"], ref["values"]):
        assert abs(y[i].item() - v) <= 1e-4 * scale, (i, y[i].item(), v)
