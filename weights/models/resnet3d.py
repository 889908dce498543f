"""3D ResNets (18/34/50/101), basic and bottleneck blocks, as faimed3d builds them.

The published A3 encoder is `resnet3d(depth=101, stem="published")`: stem Conv3d(1 -> 128,
kernel (2, 5, 5), stride (1, 3, 3), padding 1, no bias) + BN + ReLU and no max-pool.
`width` scales every channel count (small variants for tests).
"""
import torch
from torch import nn

LAYERS = {18: ("basic", [2, 2, 2, 2]), 34: ("basic", [3, 4, 6, 3]),
          50: ("bottleneck", [3, 4, 6, 3]), 101: ("bottleneck", [3, 4, 23, 3])}


def _ch(c, width):
    return max(1, int(round(c * width)))


class BasicBlock3d(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv3d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv3d(inplanes, planes, 1, stride, bias=False),
                                            nn.BatchNorm3d(planes))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + idt)


class Bottleneck3d(nn.Module):
    """1^3 -> 3^3 (carries the stride) -> 1^3, expansion 4."""
    expansion = 4

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        out = planes * self.expansion
        self.conv1 = nn.Conv3d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = nn.Conv3d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm3d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != out:
            self.downsample = nn.Sequential(nn.Conv3d(inplanes, out, 1, stride, bias=False), nn.BatchNorm3d(out))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + idt)


class ResNet3d(nn.Module):
    """Encoder (stem, layer1..layer4) plus an optional classification head.

    stem="standard": Conv3d(in, 64w, 7, stride 2, pad 3) + BN + ReLU + MaxPool3d(3, 2, 1).
    stem="published": Conv3d(in, stem_channels, (2,5,5), stride (1,3,3), pad 1, no bias) + BN + ReLU.
    num_classes=0 returns the layer4 feature map (the encoder alone).
    """

    def __init__(self, depth=18, in_channels=1, num_classes=0, stem="standard", stem_channels=None,
                 width=1.0, layers=None, block=None):
        super().__init__()
        kind, default_layers = LAYERS[depth] if depth in LAYERS else (block, layers)
        block_cls = {"basic": BasicBlock3d, "bottleneck": Bottleneck3d}[block or kind]
        layers = layers or default_layers
        if stem == "published":
            sc = _ch(stem_channels or 128, width)
            self.stem = nn.Sequential(nn.Conv3d(in_channels, sc, (2, 5, 5), (1, 3, 3), 1, bias=False),
                                      nn.BatchNorm3d(sc), nn.ReLU(inplace=True))
        elif stem == "standard":
            sc = _ch(stem_channels or 64, width)
            self.stem = nn.Sequential(nn.Conv3d(in_channels, sc, 7, 2, 3, bias=False), nn.BatchNorm3d(sc),
                                      nn.ReLU(inplace=True), nn.MaxPool3d(3, 2, 1))
        else:
            raise ValueError(f"unknown stem {stem!r}")
        inplanes = sc
        stages = []
        for i, n in enumerate(layers):
            planes = _ch(64 * 2 ** i, width)
            blocks = []
            for b in range(n):
                blocks.append(block_cls(inplanes, planes, stride=2 if (i > 0 and b == 0) else 1))
                inplanes = planes * block_cls.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.out_channels = inplanes
        self.head = None
        if num_classes:
            self.head = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(inplanes, num_classes))

    def features(self, x):
        x = self.stem(x)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x):
        x = self.features(x)
        return x if self.head is None else self.head(x)


def build(depth=18, **kwargs):
    return ResNet3d(depth=depth, **kwargs)


if __name__ == "__main__":
    m = build(101, stem="published").eval()
    print(sum(p.numel() for p in m.parameters()) / 1e6, "M parameters")
    with torch.no_grad():
        print(m(torch.zeros(1, 1, 16, 192, 192)).shape)
