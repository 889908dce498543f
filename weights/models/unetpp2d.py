"""UNet++ (Zhou et al. 2018), 2D: nested dense skip pathways X(i, j); bilinear x2 upsampling
(align_corners=True) as in the reference implementation; 1x1 head on X(0, depth). Outputs logits."""
import torch
from torch import nn

from models.unet2d import double_conv


class UNetPP2d(nn.Module):
    def __init__(self, in_channels=1, num_classes=3, base=32, depth=4):
        super().__init__()
        self.depth = depth
        ch = [base * 2 ** i for i in range(depth + 1)]
        self.pool = nn.MaxPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.nodes = nn.ModuleDict()
        for i in range(depth + 1):
            self.nodes[f"x{i}_0"] = double_conv(in_channels if i == 0 else ch[i - 1], ch[i])
        for j in range(1, depth + 1):
            for i in range(depth + 1 - j):
                self.nodes[f"x{i}_{j}"] = double_conv(ch[i] * j + ch[i + 1], ch[i])
        self.head = nn.Conv2d(ch[0], num_classes, 1)

    def forward(self, x):
        X = {}
        for i in range(self.depth + 1):
            X[(i, 0)] = self.nodes[f"x{i}_0"](x if i == 0 else self.pool(X[(i - 1, 0)]))
        for j in range(1, self.depth + 1):
            for i in range(self.depth + 1 - j):
                parts = [X[(i, k)] for k in range(j)] + [self.up(X[(i + 1, j - 1)])]
                X[(i, j)] = self.nodes[f"x{i}_{j}"](torch.cat(parts, dim=1))
        return self.head(X[(0, self.depth)])


def build(**kwargs):
    return UNetPP2d(**kwargs)
