"""A2: the fastai-style dynamic 3D U-Net denoiser on a 3D ResNet-18 encoder (paper 003).

At width=1 this is the published network: input and output [B, 1, 20, 192, 192], about
95 M parameters. `width` scales every channel count for small test variants.
Shapes at 20x192x192: stem 32@18x190x190 (padding 0), layer1 64@18x190x190,
layer2 128@9x95x95, layer3 256@5x48x48, layer4 512@3x24x24; decoder 512@5x48x48,
384@9x95x95, 128@18x190x190; tail back to 1@20x192x192.
"""
import torch
import torch.nn.functional as F
from torch import nn

from models.resnet3d import BasicBlock3d


def _ch(c, width):
    return max(1, int(round(c * width)))


def conv_layer(ni, nf, ks=3, padding=1, act=True):
    """Conv3d + BN (+ ReLU), fastai's ConvLayer."""
    layers = [nn.Conv3d(ni, nf, ks, 1, padding, bias=False), nn.BatchNorm3d(nf)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class UnetBlock3d(nn.Module):
    """ConvTranspose3d(k3, s1, p0) halving channels + BN + ReLU, nearest resize to the skip's size,
    BN on the skip, concat, ReLU, two conv layers."""

    def __init__(self, up_in_c, x_in_c, final_div=True):
        super().__init__()
        half = up_in_c // 2
        self.up = nn.Sequential(nn.ConvTranspose3d(up_in_c, half, 3, 1, 0), nn.BatchNorm3d(half),
                                nn.ReLU(inplace=True))
        self.bn = nn.BatchNorm3d(x_in_c)
        ni = half + x_in_c
        nf = ni if final_div else ni // 2
        self.conv1 = conv_layer(ni, nf)
        self.conv2 = conv_layer(nf, nf)
        self.relu = nn.ReLU()
        self.out_channels = nf

    def forward(self, up_in, skip):
        up = self.up(up_in)
        up = F.interpolate(up, size=skip.shape[-3:], mode="nearest")
        x = self.relu(torch.cat([up, self.bn(skip)], dim=1))
        return self.conv2(self.conv1(x))


class ResBlock3d(nn.Module):
    """Two Conv3d 3^3 (+BN), identity shortcut, ReLU after the sum."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = conv_layer(c, c)
        self.conv2 = conv_layer(c, c, act=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.conv2(self.conv1(x)) + x)


class UNet3dDenoiser(nn.Module):
    def __init__(self, in_channels=1, width=1.0, blocks=(2, 2, 2, 2)):
        super().__init__()
        c = lambda n: _ch(n, width)  # noqa: E731
        stem_c = c(32)
        self.stem = nn.Sequential(nn.Conv3d(in_channels, stem_c, 3, 1, 0, bias=True), nn.BatchNorm3d(stem_c),
                                  nn.ReLU(inplace=True))
        chans = [c(64), c(128), c(256), c(512)]
        inplanes = stem_c
        stages = []
        for i, (planes, n) in enumerate(zip(chans, blocks)):
            layer = []
            for b in range(n):
                layer.append(BasicBlock3d(inplanes, planes, stride=2 if (i > 0 and b == 0) else 1))
                inplanes = planes
            stages.append(nn.Sequential(*layer))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.middle = nn.Sequential(conv_layer(chans[3], c(1024)), conv_layer(c(1024), chans[3]))
        self.dec1 = UnetBlock3d(chans[3], chans[2], final_div=True)
        self.dec2 = UnetBlock3d(self.dec1.out_channels, chans[1], final_div=True)
        self.dec3 = UnetBlock3d(self.dec2.out_channels, chans[0], final_div=False)
        d = self.dec3.out_channels
        self.tail_up = nn.ConvTranspose3d(d, d, 3, 1, 0, bias=True)
        self.res = ResBlock3d(d + in_channels)
        self.head = nn.Sequential(nn.Conv3d(d + in_channels, 1, 1, bias=False), nn.BatchNorm3d(1))

    def forward(self, x):
        s0 = self.stem(x)
        s1 = self.layer1(s0)
        s2 = self.layer2(s1)
        s3 = self.layer3(s2)
        s4 = self.layer4(s3)
        y = self.middle(s4)
        y = self.dec1(y, s3)
        y = self.dec2(y, s2)
        y = self.dec3(y, s1)
        y = self.tail_up(y)  # undoes the stem's padding-0 shrink exactly: back to x's size
        y = torch.cat([y, x], dim=1)
        return self.head(self.res(y))


def build(**kwargs):
    return UNet3dDenoiser(**kwargs)


if __name__ == "__main__":
    m = build().eval()
    print(sum(p.numel() for p in m.parameters()) / 1e6, "M parameters")
