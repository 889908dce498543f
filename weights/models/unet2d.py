"""B: the 2D U-Net of paper 004 (hip MRI): per level two 3x3 conv + BN + ReLU, 2x2 max-pool;
decoder: 2x2 transposed conv, skip concat, two 3x3 conv + BN + ReLU; 1x1 head, 3 classes
(background, femoral head, lesion). Input [B, 1, 128, 160]. Outputs logits."""
import torch
from torch import nn


def double_conv(ni, nf):
    return nn.Sequential(nn.Conv2d(ni, nf, 3, 1, 1, bias=False), nn.BatchNorm2d(nf), nn.ReLU(inplace=True),
                         nn.Conv2d(nf, nf, 3, 1, 1, bias=False), nn.BatchNorm2d(nf), nn.ReLU(inplace=True))


class UNet2d(nn.Module):
    def __init__(self, in_channels=1, num_classes=3, base=64, depth=4):
        super().__init__()
        chans = [base * 2 ** i for i in range(depth + 1)]
        self.down = nn.ModuleList()
        ni = in_channels
        for c in chans[:-1]:
            self.down.append(double_conv(ni, c))
            ni = c
        self.pool = nn.MaxPool2d(2)
        self.bottom = double_conv(chans[-2], chans[-1])
        self.ups = nn.ModuleList()
        self.up_convs = nn.ModuleList()
        for i in range(depth, 0, -1):
            self.ups.append(nn.ConvTranspose2d(chans[i], chans[i - 1], 2, 2))
            self.up_convs.append(double_conv(2 * chans[i - 1], chans[i - 1]))
        self.head = nn.Conv2d(chans[0], num_classes, 1)

    def forward(self, x):
        skips = []
        for d in self.down:
            x = d(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottom(x)
        for up, conv, skip in zip(self.ups, self.up_convs, reversed(skips)):
            x = conv(torch.cat([skip, up(x)], dim=1))
        return self.head(x)


def build(**kwargs):
    return UNet2d(**kwargs)
