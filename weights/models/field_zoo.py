"""The architectures the field trains, as the tests (tests/models/test_field_models.py) and the
benchmark (bench/model_compare.py --field) build them: torchvision's classifiers and
segmenters, an nnU-Net 3d_fullres-style PlainConvUNet, MONAI-style UNet, SegResNet and DenseNet121-3D
(weights/models/monai_unet.py, segresnet.py). Random weights; every normalisation gets
non-trivial statistics and affine parameters (randomize_norms), so a wrong normalisation shows.

FIELD_MODELS: name -> (factory, benchmark input shape, test input shape); the test shapes are
small enough for CI on 2 cores.
"""
import torch
from torch import nn


class OutOnly(nn.Module):
    """torchvision's segmenters return {"out": ...}: the tensor alone, for export."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)["out"]


def _tv(name, seg=False, **kw):
    def make():
        import torchvision.models as tvm
        import torchvision.models.segmentation as tvs
        import torchvision.models.video as tvv
        for mod in (tvv, tvs, tvm):
            if hasattr(mod, name):
                net = getattr(mod, name)(weights=None, **kw)
                return OutOnly(net) if seg else net
        raise ValueError(name)
    return make


def _nnunet_3d_fullres():
    from models.nnunet_networks import PlainConvUNet
    feats = [32, 64, 128, 256, 320, 320]
    return PlainConvUNet(1, 6, feats, nn.Conv3d, 3, [1, 2, 2, 2, 2, 2], 2, 3, 2, conv_bias=True,
                         norm_op=nn.InstanceNorm3d, norm_op_kwargs={"eps": 1e-5, "affine": True},
                         nonlin=nn.LeakyReLU, nonlin_kwargs={"negative_slope": 1e-2})


def _monai_unet():
    from models.monai_unet import UNet
    return UNet(3, 1, 2, (16, 32, 64, 128, 256), (2, 2, 2, 2), num_res_units=2)


def _monai_densenet121_3d():
    from models.monai_densenet import densenet121
    return densenet121(3, 1, 2)


def _segresnet():
    from models.segresnet import SegResNet
    return SegResNet(3, 8, 1, 2)


FIELD_MODELS = {
    "nnunet_plain_3d_fullres": (_nnunet_3d_fullres, (1, 1, 128, 128, 128), (1, 1, 64, 64, 64)),
    "monai_unet": (_monai_unet, (1, 1, 96, 96, 96), (1, 1, 32, 32, 32)),
    "monai_densenet121_3d": (_monai_densenet121_3d, (1, 1, 96, 96, 96), (1, 1, 64, 64, 64)),
    "segresnet": (_segresnet, (1, 1, 96, 96, 96), (1, 1, 32, 32, 32)),
    "deeplabv3_resnet50": (_tv("deeplabv3_resnet50", seg=True, weights_backbone=None), (1, 3, 256, 256),
                           (1, 3, 64, 64)),
    "fcn_resnet50": (_tv("fcn_resnet50", seg=True, weights_backbone=None), (1, 3, 256, 256), (1, 3, 64, 64)),
    "lraspp_mobilenet_v3_large": (_tv("lraspp_mobilenet_v3_large", seg=True, weights_backbone=None),
                                  (1, 3, 256, 256), (1, 3, 64, 64)),
    "r3d_18": (_tv("r3d_18"), (1, 3, 16, 112, 112), (1, 3, 4, 48, 48)),
    "mc3_18": (_tv("mc3_18"), (1, 3, 16, 112, 112), (1, 3, 4, 48, 48)),
    "r2plus1d_18": (_tv("r2plus1d_18"), (1, 3, 16, 112, 112), (1, 3, 4, 48, 48)),
    "s3d": (_tv("s3d"), (1, 3, 16, 224, 224), (1, 3, 16, 224, 224)),  # its last pool needs 224^2
    "resnet50": (_tv("resnet50"), (1, 3, 224, 224), (1, 3, 64, 64)),
    "densenet121": (_tv("densenet121"), (1, 3, 224, 224), (1, 3, 64, 64)),
    "efficientnet_b0": (_tv("efficientnet_b0"), (1, 3, 224, 224), (1, 3, 64, 64)),
    "mobilenet_v3_large": (_tv("mobilenet_v3_large"), (1, 3, 224, 224), (1, 3, 64, 64)),
}


def randomize_norms(module, seed=0):
    """Random running statistics and affine parameters for every normalisation layer."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(0.2 * torch.randn(m.num_features, generator=g))
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g))
            if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm,
                              nn.GroupNorm)) and getattr(m, "weight", None) is not None:
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
            if isinstance(m, nn.PReLU):
                m.weight.copy_(0.05 + 0.3 * torch.rand(m.weight.shape, generator=g))
    return module


def build_field_model(name, seed=0):
    torch.manual_seed(seed)
    return randomize_norms(FIELD_MODELS[name][0]().eval(), seed)
