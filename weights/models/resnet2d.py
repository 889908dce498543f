"""2D ResNet-50 (torchvision layout: bottleneck blocks [3, 4, 6, 3], stride on the 3x3), with
a configurable input channel count, width factor and class count. Outputs logits."""
import torch
from torch import nn


class Bottleneck2d(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        out = planes * 4
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != out:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + idt)


class ResNet2d(nn.Module):
    def __init__(self, in_channels=3, num_classes=1000, width=1.0, layers=(3, 4, 6, 3)):
        super().__init__()
        c = lambda n: max(1, int(round(n * width)))  # noqa: E731
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c(64), 7, 2, 3, bias=False), nn.BatchNorm2d(c(64)),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        inplanes = c(64)
        stages = []
        for i, n in enumerate(layers):
            blocks = []
            for b in range(n):
                blocks.append(Bottleneck2d(inplanes, c(64 * 2 ** i), 2 if (i > 0 and b == 0) else 1))
                inplanes = c(64 * 2 ** i) * 4
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x):
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.fc(torch.flatten(self.pool(x), 1))


def build(**kwargs):
    return ResNet2d(**kwargs)
