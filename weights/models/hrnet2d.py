"""A small 2D HRNet (Wang et al. 2019): parallel multi-resolution branches with repeated
fusion. Stem: two 3x3 stride-2 conv + BN + ReLU (1/4 resolution). Stage s has s+1 branches
(channel c * 2^b at 1/4 * 2^-b resolution), each with `blocks` basic residual blocks, then a
fusion: lower-to-higher via 1x1 conv + BN + nearest upsampling, higher-to-lower via strided
3x3 conv + BN. Head: upsample all branches to the finest (bilinear, align_corners=False),
concat, 1x1 conv + BN + ReLU, 1x1 conv to classes, bilinear x4 to input size. Outputs logits."""
import torch
import torch.nn.functional as F
from torch import nn


def cbr(ni, nf, k=3, s=1, act=True):
    layers = [nn.Conv2d(ni, nf, k, s, k // 2, bias=False), nn.BatchNorm2d(nf)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class BasicBlock2d(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = cbr(c, c)
        self.b = cbr(c, c, act=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.b(self.a(x)) + x)


class Fuse(nn.Module):
    """Output branch i = ReLU(sum_j transform_{j->i}(x_j)) for n_out branches from n_in."""

    def __init__(self, chans_in, chans_out):
        super().__init__()
        self.paths = nn.ModuleList()
        for i, co in enumerate(chans_out):
            row = nn.ModuleList()
            for j, ci in enumerate(chans_in):
                if j == i:
                    row.append(nn.Identity() if ci == co else cbr(ci, co, 1, act=False))
                elif j > i:
                    row.append(nn.Sequential(cbr(ci, co, 1, act=False), nn.Upsample(scale_factor=2 ** (j - i),
                                                                                    mode="nearest")))
                else:
                    steps = []
                    for k in range(i - j):
                        last = k == i - j - 1
                        steps.append(cbr(ci, co if last else ci, 3, 2, act=not last))
                    row.append(nn.Sequential(*steps))
            self.paths.append(row)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, xs):
        outs = []
        for row in self.paths:
            y = row[0](xs[0])
            for j in range(1, len(xs)):
                y = y + row[j](xs[j])
            outs.append(self.relu(y))
        return outs


class HRNet2d(nn.Module):
    def __init__(self, in_channels=1, num_classes=3, base=16, stages=3, blocks=2):
        super().__init__()
        self.stem = nn.Sequential(cbr(in_channels, base, 3, 2), cbr(base, base, 3, 2))
        self.stages = nn.ModuleList()
        self.fuses = nn.ModuleList()
        chans = [base]
        for s in range(1, stages + 1):
            new = [base * 2 ** b for b in range(s + 1)]
            self.fuses.append(Fuse(chans, new))  # also creates the new, coarser branch
            self.stages.append(nn.ModuleList([nn.Sequential(*[BasicBlock2d(c) for _ in range(blocks)]) for c in new]))
            chans = new
        total = sum(chans)
        self.head = nn.Sequential(cbr(total, total, 1), nn.Conv2d(total, num_classes, 1))

    def forward(self, x):
        size = x.shape[-2:]
        xs = [self.stem(x)]
        for fuse, branches in zip(self.fuses, self.stages):
            xs = fuse(xs)
            xs = [b(t) for b, t in zip(branches, xs)]
        ups = [xs[0]] + [F.interpolate(t, scale_factor=2 ** i, mode="bilinear", align_corners=False)
                         for i, t in enumerate(xs[1:], 1)]
        y = self.head(torch.cat(ups, dim=1))
        return F.interpolate(y, size=size, mode="bilinear", align_corners=False)


def build(**kwargs):
    return HRNet2d(**kwargs)
