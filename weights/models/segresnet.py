"""MONAI's SegResNet (monai.networks.nets.SegResNet, 1.3; Myronenko 2018) rebuilt with the same
structure, for tests and benchmarks (MONAI is not a Debian package): an initial 3x3x3 conv;
down levels of a strided conv and pre-activation residual blocks (GroupNorm(8) -> ReLU -> conv,
twice, plus identity); up levels of a 1x1x1 conv, non-trainable trilinear 2x upsampling, the skip
added, and residual blocks; a GroupNorm -> ReLU -> 1x1x1 conv head. Convs have no bias except
the head's, as MONAI's.

    from models.segresnet import build
    net = build(spatial_dims=3, init_filters=8, in_channels=1, out_channels=2)
"""
from torch import nn


def _conv(dims, cin, cout, k=3, stride=1, bias=False):
    return (nn.Conv2d if dims == 2 else nn.Conv3d)(cin, cout, k, stride, (k - 1) // 2, bias=bias)


class ResBlock(nn.Module):
    def __init__(self, dims, ch, groups):
        super().__init__()
        self.norm1, self.act1 = nn.GroupNorm(groups, ch), nn.ReLU()
        self.conv1 = _conv(dims, ch, ch)
        self.norm2, self.act2 = nn.GroupNorm(groups, ch), nn.ReLU()
        self.conv2 = _conv(dims, ch, ch)

    def forward(self, x):
        y = self.conv1(self.act1(self.norm1(x)))
        return self.conv2(self.act2(self.norm2(y))) + x


class SegResNet(nn.Module):
    def __init__(self, spatial_dims=3, init_filters=8, in_channels=1, out_channels=2, num_groups=8,
                 blocks_down=(1, 2, 2, 4), blocks_up=(1, 1, 1)):
        super().__init__()
        d, f, g = spatial_dims, init_filters, num_groups
        self.conv_init = _conv(d, in_channels, f)
        self.down_layers = nn.ModuleList()
        for i, n in enumerate(blocks_down):
            ch = f * 2 ** i
            pre = _conv(d, ch // 2, ch, stride=2) if i > 0 else nn.Identity()
            self.down_layers.append(nn.Sequential(pre, *[ResBlock(d, ch, g) for _ in range(n)]))
        self.up_samples, self.up_layers = nn.ModuleList(), nn.ModuleList()
        n_up = len(blocks_up)
        for i in range(n_up):
            ch = f * 2 ** (n_up - i)
            mode = "trilinear" if d == 3 else "bilinear"
            self.up_samples.append(nn.Sequential(_conv(d, ch, ch // 2, k=1),
                                                 nn.Upsample(scale_factor=2, mode=mode, align_corners=False)))
            self.up_layers.append(nn.Sequential(*[ResBlock(d, ch // 2, g) for _ in range(blocks_up[i])]))
        self.conv_final = nn.Sequential(nn.GroupNorm(g, f), nn.ReLU(), _conv(d, f, out_channels, k=1, bias=True))

    def forward(self, x):
        x = self.conv_init(x)
        skips = []
        for down in self.down_layers:
            x = down(x)
            skips.append(x)
        skips.reverse()
        for i, (up, layer) in enumerate(zip(self.up_samples, self.up_layers)):
            x = layer(up(x) + skips[i + 1])
        return self.conv_final(x)


def build(**kwargs):
    return SegResNet(**kwargs)
