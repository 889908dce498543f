"""Attention U-Net (Oktay et al. 2018), 2D: additive attention gates on the skips.
Gate: psi = sigmoid(BN(conv1x1(relu(BN(W_g g) + BN(W_x x))))); skip' = x * psi.
Decoder: nearest x2 upsample + 3x3 conv + BN + ReLU, gate, concat, two 3x3 conv. Outputs logits."""
import torch
from torch import nn

from models.unet2d import double_conv


class AttentionGate(nn.Module):
    def __init__(self, f_g, f_x, f_int):
        super().__init__()
        self.w_g = nn.Sequential(nn.Conv2d(f_g, f_int, 1, bias=True), nn.BatchNorm2d(f_int))
        self.w_x = nn.Sequential(nn.Conv2d(f_x, f_int, 1, bias=True), nn.BatchNorm2d(f_int))
        self.psi = nn.Sequential(nn.Conv2d(f_int, 1, 1, bias=True), nn.BatchNorm2d(1), nn.Sigmoid())
        self.relu = nn.ReLU(inplace=True)

    def forward(self, g, x):
        return x * self.psi(self.relu(self.w_g(g) + self.w_x(x)))


class AttentionUNet2d(nn.Module):
    def __init__(self, in_channels=1, num_classes=3, base=64, depth=4):
        super().__init__()
        ch = [base * 2 ** i for i in range(depth + 1)]
        self.pool = nn.MaxPool2d(2)
        self.down = nn.ModuleList([double_conv(in_channels if i == 0 else ch[i - 1], ch[i]) for i in range(depth + 1)])
        self.ups, self.gates, self.convs = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for i in range(depth, 0, -1):
            self.ups.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                          nn.Conv2d(ch[i], ch[i - 1], 3, 1, 1, bias=False),
                                          nn.BatchNorm2d(ch[i - 1]), nn.ReLU(inplace=True)))
            self.gates.append(AttentionGate(ch[i - 1], ch[i - 1], max(1, ch[i - 1] // 2)))
            self.convs.append(double_conv(2 * ch[i - 1], ch[i - 1]))
        self.head = nn.Conv2d(ch[0], num_classes, 1)

    def forward(self, x):
        skips = []
        for i, d in enumerate(self.down):
            x = d(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for up, gate, conv in zip(self.ups, self.gates, self.convs):
            g = up(x)
            s = skips.pop()
            x = conv(torch.cat([gate(g, s), g], dim=1))
        return self.head(x)


def build(**kwargs):
    return AttentionUNet2d(**kwargs)
