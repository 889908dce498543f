"""torch modules using the activations and math of issue 18 go through torch.onnx.export,
weights/convert.py and the Python binding, and match PyTorch eager within
max abs err <= 1e-4 * max(1, max |ref|). Also: torch's exact-GELU pattern fuses into one Gelu
node, ReLU6/Hardtanh come out as Clip, and the converter names the node when Pow's exponent or
Clip's bounds are not constants."""
import numpy as np
import pytest
import torch
import torch.nn as nn

import convert
from torch_parity import Fn, check_against_torch, export_onnx

torch.set_num_threads(1)


class Act(nn.Module):
    """conv -> activation -> conv, so the activation sits between two computed tensors."""

    def __init__(self, act):
        super().__init__()
        self.c1, self.act, self.c2 = nn.Conv2d(2, 4, 3, padding=1), act, nn.Conv2d(4, 3, 1)

    def forward(self, x):
        return self.c2(self.act(self.c1(x) * 3))


CASES = {
    "elu": (nn.ELU(), "Elu"),
    "elu_0.3": (nn.ELU(0.3), "Elu"),
    "selu": (nn.SELU(), "Selu"),
    "hardsigmoid": (nn.Hardsigmoid(), "HardSigmoid"),
    "hardswish": (nn.Hardswish(), "HardSwish"),  # opset 13: x * HardSigmoid(x), fused
    "softplus": (nn.Softplus(), "Softplus"),
    "gelu": (nn.GELU(), "Gelu"),
    "relu6": (nn.ReLU6(), "Clip"),
    "hardtanh": (nn.Hardtanh(-0.5, 1.5), "Clip"),
    "clamp_min": (Fn(lambda x: torch.clamp(x, min=-0.25)), "Clip"),
    "clamp_max": (Fn(lambda x: torch.clamp(x, max=0.75)), "Clip"),
    "exp": (Fn(lambda x: torch.exp(x * 0.3)), "Exp"),
    "log": (Fn(lambda x: torch.log(x * x + 0.1)), "Log"),
    "sqrt": (Fn(lambda x: torch.sqrt(torch.abs(x))), "Sqrt"),
    "abs": (Fn(torch.abs), "Abs"),
    "neg": (Fn(torch.neg), "Neg"),
    "pow2": (Fn(lambda x: torch.pow(x, 2)), "Pow"),
    "pow_half": (Fn(lambda x: torch.pow(torch.abs(x), 0.5)), "Pow"),
    "pow3": (Fn(lambda x: x ** 3), "Pow"),
    "pow_1.7": (Fn(lambda x: (torch.abs(x) + 0.01) ** 1.7), "Pow"),
    "erf": (Fn(torch.erf), "Erf"),
}


def check(module, x, tmp_path, fold=True):
    return check_against_torch(module, x, tmp_path, fold=fold)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("fold", [True, False])
def test_activation_matches_torch(name, fold, tmp_path):
    torch.manual_seed(0)
    act, op = CASES[name]
    ops = check(Act(act).eval(), torch.randn(2, 2, 9, 11), tmp_path, fold)
    assert op in ops, ops


def test_gelu_pattern_fuses_to_one_node(tmp_path):
    torch.manual_seed(0)
    ops = check(Act(nn.GELU()).eval(), torch.randn(1, 2, 8, 8), tmp_path)
    assert ops.count("Gelu") == 1 and "Erf" not in ops and ops.count("Mul") == 1 and "Div" not in ops, ops


def test_hardswish_pattern_fuses_to_one_node(tmp_path):
    torch.manual_seed(0)
    ops = check(Act(nn.Hardswish()).eval(), torch.randn(1, 2, 8, 8), tmp_path)
    assert ops.count("HardSwish") == 1 and "HardSigmoid" not in ops and ops.count("Mul") == 1, ops


def test_erf_used_twice_is_not_fused(tmp_path):
    """The intermediate x/sqrt2 has a second reader: the pattern must stay unfused and exact."""
    torch.manual_seed(0)

    def f(x):
        d = x / 1.4142135381698608
        return x * 0.5 * (1 + torch.erf(d)) + d

    ops = check(Fn(f), torch.randn(1, 2, 5, 6), tmp_path)
    assert "Gelu" not in ops and "Erf" in ops, ops


def test_pow_with_computed_exponent_is_refused_naming_the_node():
    class P(nn.Module):
        def forward(self, x):
            return torch.pow(x, x)

    with pytest.raises(convert.ConvertError, match=r"Pow node '.*'.*exponent.*constant"):
        convert.convert_onnx(export_onnx(P(), torch.rand(1, 2, 4, 4) + 1), None,
                             input_shapes={"input": [1, 2, 4, 4]})


def test_clip_min_above_max_is_refused_naming_the_node():
    with pytest.raises(convert.ConvertError, match=r"Clip node '.*': min 2.0 is greater than max 1.0"):
        convert.convert_onnx(export_onnx(Fn(lambda x: torch.clamp(x, 2.0, 1.0)), torch.rand(1, 2, 4, 4)), None,
                             input_shapes={"input": [1, 2, 4, 4]})


def test_torchvision_mobilenet_v3_small_matches_torch(tmp_path):
    """HardSigmoid (squeeze-excitation gates) and HardSwish from a real architecture."""
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v3_small().eval()
    for m in model.modules():  # non-trivial normalisation statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    ops = check(model, torch.randn(1, 3, 224, 224), tmp_path)
    assert "HardSwish" in ops and "HardSigmoid" in ops
