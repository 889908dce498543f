"""A3: the dual-encoder 3D ResNet-101 classifier (paper 003).

One encoder with shared weights runs on T1 and on STIR; each result is max-pooled to 1x1x1,
the two are concatenated along depth ([B, C, 2, 1, 1]), then adaptive concat pooling (max || avg)
gives [B, 2C]. Head: BN1d -> Dropout(0.25) -> Linear(no bias) -> ReLU -> BN1d -> Dropout(0.5)
-> Linear(no bias). forward(t1, stir) returns raw logits (Grad-CAM needs them); the activation
(softmax or sigmoid) is metadata for the engine.
"""
import torch
from torch import nn

from models.resnet3d import ResNet3d


class DualEncoder(nn.Module):
    def __init__(self, depth=101, num_outputs=2, width=1.0, stem="published", stem_channels=128, hidden=512,
                 layers=None, block=None, activation="softmax"):
        super().__init__()
        self.encoder = ResNet3d(depth=depth, in_channels=1, num_classes=0, stem=stem, stem_channels=stem_channels,
                                width=width, layers=layers, block=block)
        c = self.encoder.out_channels
        self.seq_pool = nn.AdaptiveMaxPool3d(1)
        self.max_pool = nn.AdaptiveMaxPool3d(1)
        self.avg_pool = nn.AdaptiveAvgPool3d(1)
        hidden = max(1, int(round(hidden * width)))
        self.head = nn.Sequential(nn.Flatten(), nn.BatchNorm1d(2 * c), nn.Dropout(0.25),
                                  nn.Linear(2 * c, hidden, bias=False), nn.ReLU(inplace=True),
                                  nn.BatchNorm1d(hidden), nn.Dropout(0.5), nn.Linear(hidden, num_outputs, bias=False))
        self.activation = activation

    def forward(self, t1, stir):
        a = self.seq_pool(self.encoder.features(t1))
        b = self.seq_pool(self.encoder.features(stir))
        x = torch.cat([a, b], dim=2)  # [B, C, 2, 1, 1]
        x = torch.cat([self.max_pool(x), self.avg_pool(x)], dim=1)  # adaptive concat pool, max first
        return self.head(x)


def build(**kwargs):
    return DualEncoder(**kwargs)
