"""MobileNet V1 (Howard et al. 2017) with a width multiplier, regressing 62 parameters.

Layer names follow 3DDFA_V2's checkpoints (``conv1``, ``dw2_1`` ... ``dw6``, ``fc_param``) so that its
released weights load as they are; the same network with a 4-channel input is dasl's light backbone.
"""

from __future__ import annotations

import torch
from torch import nn

# (name, output channels at width 1, stride) of the depthwise-separable blocks
_BLOCKS = [
    ("dw2_1", 64, 1),
    ("dw2_2", 128, 2),
    ("dw3_1", 128, 1),
    ("dw3_2", 256, 2),
    ("dw4_1", 256, 1),
    ("dw4_2", 512, 2),
    ("dw5_1", 512, 1),
    ("dw5_2", 512, 1),
    ("dw5_3", 512, 1),
    ("dw5_4", 512, 1),
    ("dw5_5", 512, 1),
    ("dw5_6", 1024, 2),
    ("dw6", 1024, 1),
]


class DepthwiseSeparable(nn.Module):
    """3x3 depthwise convolution, then 1x1 pointwise, each with batch norm and ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv_dw = nn.Conv2d(in_channels, in_channels, 3, stride, 1, groups=in_channels, bias=False)
        self.bn_dw = nn.BatchNorm2d(in_channels)
        self.conv_sep = nn.Conv2d(in_channels, out_channels, 1, 1, 0, bias=False)
        self.bn_sep = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn_dw(self.conv_dw(x)))
        return self.relu(self.bn_sep(self.conv_sep(x)))


class MobileNetV1(nn.Module):
    """``(N, in_channels, 120, 120)`` images to ``(N, num_outputs)``.

    ``width`` scales every layer's channels (0.5 for 3DDFA_V2's ``mb05``).
    """

    def __init__(self, width: float = 1.0, in_channels: int = 3, num_outputs: int = 62) -> None:
        super().__init__()
        channels = int(32 * width)
        self.conv1 = nn.Conv2d(in_channels, channels, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        for name, out, stride in _BLOCKS:
            setattr(self, name, DepthwiseSeparable(channels, int(out * width), stride))
            channels = int(out * width)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc_param = nn.Linear(channels, num_outputs)
        self.feature_channels = channels

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        for name, _, _ in _BLOCKS:
            x = getattr(self, name)(x)
        return self.avgpool(x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc_param(self.features(x))
