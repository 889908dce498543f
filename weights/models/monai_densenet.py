"""MONAI's DenseNet121 (monai.networks.nets.DenseNet121) as a plain torch module, written from its
published structure: a 7^3 stride-2 stem conv, BN, ReLU, 3^3 stride-2 max pool; dense blocks of
(6, 12, 24, 16) layers (BN-ReLU-1^3 conv to bn_size*growth, BN-ReLU-3^3 conv to growth, concatenated
to the input); transitions BN-ReLU-1^3 conv halving the channels, 2^3 average pool; a final BN;
then ReLU, adaptive average pool, flatten and a linear classifier. Module names follow MONAI's
(features.conv0, features.denseblock1.denselayer1.layers.norm1, class_layers.out, ...)."""
from collections import OrderedDict

import torch
from torch import nn

_CONV = {2: nn.Conv2d, 3: nn.Conv3d}
_BN = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
_MAXPOOL = {2: nn.MaxPool2d, 3: nn.MaxPool3d}
_AVGPOOL = {2: nn.AvgPool2d, 3: nn.AvgPool3d}
_GAP = {2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d}


class DenseLayer(nn.Module):
    def __init__(self, dims, cin, growth, bn_size):
        super().__init__()
        mid = bn_size * growth
        self.layers = nn.Sequential(OrderedDict([
            ("norm1", _BN[dims](cin)), ("relu1", nn.ReLU()),
            ("conv1", _CONV[dims](cin, mid, 1, bias=False)),
            ("norm2", _BN[dims](mid)), ("relu2", nn.ReLU()),
            ("conv2", _CONV[dims](mid, growth, 3, padding=1, bias=False)),
        ]))

    def forward(self, x):
        return torch.cat([x, self.layers(x)], 1)


class DenseNet(nn.Module):
    def __init__(self, dims, in_channels, out_channels, init_features=64, growth=32,
                 block_config=(6, 12, 24, 16), bn_size=4):
        super().__init__()
        f = OrderedDict([
            ("conv0", _CONV[dims](in_channels, init_features, 7, stride=2, padding=3, bias=False)),
            ("norm0", _BN[dims](init_features)), ("relu0", nn.ReLU()),
            ("pool0", _MAXPOOL[dims](3, stride=2, padding=1)),
        ])
        c = init_features
        for i, n in enumerate(block_config):
            block = nn.Sequential()
            for j in range(n):
                block.add_module(f"denselayer{j + 1}", DenseLayer(dims, c + j * growth, growth, bn_size))
            f[f"denseblock{i + 1}"] = block
            c += n * growth
            if i == len(block_config) - 1:
                f["norm5"] = _BN[dims](c)
            else:
                f[f"transition{i + 1}"] = nn.Sequential(OrderedDict([
                    ("norm", _BN[dims](c)), ("relu", nn.ReLU()),
                    ("conv", _CONV[dims](c, c // 2, 1, bias=False)), ("pool", _AVGPOOL[dims](2, stride=2)),
                ]))
                c //= 2
        self.features = nn.Sequential(f)
        self.class_layers = nn.Sequential(OrderedDict([
            ("relu", nn.ReLU()), ("pool", _GAP[dims](1)), ("flatten", nn.Flatten(1)),
            ("out", nn.Linear(c, out_channels)),
        ]))

    def forward(self, x):
        return self.class_layers(self.features(x))


def densenet121(dims=3, in_channels=1, out_channels=2):
    return DenseNet(dims, in_channels, out_channels)
