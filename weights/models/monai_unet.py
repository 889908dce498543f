"""MONAI's UNet (monai.networks.nets.UNet, 1.3) rebuilt with the same structure, for tests and
benchmarks (MONAI is not a Debian package): residual units of `num_res_units` conv -> norm ->
dropout -> act subunits (ADN order "NDA") with a strided conv (or 1x1x1 conv) on the residual
path; nested down / skip-concat / transposed-conv up blocks; instance norm without affine
parameters and a single-slope PReLU by default, as MONAI's defaults.

    from models.monai_unet import build
    net = build(spatial_dims=3, in_channels=1, out_channels=2, channels=(16, 32, 64, 128, 256))
"""
import torch
from torch import nn


def _conv_cls(dims, transposed=False):
    return {(2, False): nn.Conv2d, (3, False): nn.Conv3d, (2, True): nn.ConvTranspose2d,
            (3, True): nn.ConvTranspose3d}[(dims, transposed)]


def _norm(dims, ch, affine):
    return (nn.InstanceNorm2d if dims == 2 else nn.InstanceNorm3d)(ch, affine=affine)


class Convolution(nn.Sequential):
    """conv (or transposed conv), then norm -> act unless conv_only (MONAI's Convolution + ADN)."""

    def __init__(self, dims, cin, cout, stride, k, conv_only=False, transposed=False, affine=False, bias=True):
        super().__init__()
        pad = (k - 1) // 2
        if transposed:
            self.conv = _conv_cls(dims, True)(cin, cout, k, stride, pad, output_padding=stride - 1, bias=bias)
        else:
            self.conv = _conv_cls(dims)(cin, cout, k, stride, pad, bias=bias)
        if not conv_only:
            self.adn = nn.Sequential()
            self.adn.add_module("N", _norm(dims, cout, affine))
            self.adn.add_module("A", nn.PReLU())


class ResidualUnit(nn.Module):
    def __init__(self, dims, cin, cout, stride, k, subunits, last_conv_only=False, affine=False, bias=True):
        super().__init__()
        self.conv = nn.Sequential()
        ch, s = cin, stride
        subunits = max(1, subunits)
        for su in range(subunits):
            conv_only = last_conv_only and su == subunits - 1
            self.conv.add_module(f"unit{su}", Convolution(dims, ch, cout, s, k, conv_only, affine=affine, bias=bias))
            ch, s = cout, 1
        if stride != 1 or cin != cout:
            rk, rp = (k, (k - 1) // 2) if stride != 1 else (1, 0)
            self.residual = _conv_cls(dims)(cin, cout, rk, stride, rp, bias=bias)
        else:
            self.residual = nn.Identity()

    def forward(self, x):
        return self.conv(x) + self.residual(x)


class SkipConnection(nn.Module):
    def __init__(self, submodule):
        super().__init__()
        self.submodule = submodule

    def forward(self, x):
        return torch.cat([x, self.submodule(x)], dim=1)


class UNet(nn.Module):
    def __init__(self, spatial_dims=3, in_channels=1, out_channels=2, channels=(16, 32, 64, 128, 256),
                 strides=(2, 2, 2, 2), kernel_size=3, up_kernel_size=3, num_res_units=2, affine=False):
        super().__init__()
        if len(strides) != len(channels) - 1:
            raise ValueError("strides needs one entry fewer than channels")
        d, k, uk, r, af = spatial_dims, kernel_size, up_kernel_size, num_res_units, affine

        def down(cin, cout, s, is_top):
            if r > 0:
                return ResidualUnit(d, cin, cout, s, k, r, affine=af)
            return Convolution(d, cin, cout, s, k, affine=af)

        def up(cin, cout, s, is_top):
            conv = Convolution(d, cin, cout, s, uk, conv_only=is_top and r == 0, transposed=True, affine=af)
            if r > 0:
                return nn.Sequential(conv, ResidualUnit(d, cout, cout, 1, k, 1, last_conv_only=is_top, affine=af))
            return conv

        def block(cin, cout, chs, ss, is_top):
            c, s = chs[0], ss[0]
            if len(chs) > 2:
                sub, upc = block(c, c, chs[1:], ss[1:], False), c * 2
            else:
                sub, upc = down(c, chs[1], 1, False), c + chs[1]
            return nn.Sequential(down(cin, c, s, is_top), SkipConnection(sub), up(upc, cout, s, is_top))

        self.model = block(in_channels, out_channels, list(channels), list(strides), True)

    def forward(self, x):
        return self.model(x)


def build(**kwargs):
    return UNet(**kwargs)
