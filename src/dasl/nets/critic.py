"""2DASL's self-critic (paper section 3.5): an image encoder and a critic on [latent, parameters].

* :class:`Encoder`: 6 convolutions, each followed by ReLU and 2x2 max pooling: ``(N, 3, 120, 120)`` to a
  latent ``z`` ``(N, latent)`` (120 -> 60 -> 30 -> 15 -> 7 -> 3 -> 1).
* :class:`Critic`: fully connected layers of 512, 1024, 1024 and 1 units on ``[z, params]``; it returns a
  logit (the paper's final softmax over one unit is a sigmoid, applied inside the loss).
"""

from __future__ import annotations

import torch
from torch import nn


class Encoder(nn.Module):
    def __init__(self, in_channels: int = 3, latent: int = 512, widths=(32, 64, 128, 256, 256)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for out in (*widths, latent):
            layers += [nn.Conv2d(channels, out, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            channels = out
        self.body = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)  # 1x1 already for 120x120 inputs; keeps other sizes working
        self.latent = latent

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.pool(self.body(images)).flatten(1)


class Critic(nn.Module):
    def __init__(self, latent: int = 512, n_params: int = 62, widths=(512, 1024, 1024)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        size = latent + n_params
        for w in widths:
            layers += [nn.Linear(size, w), nn.LeakyReLU(0.2, inplace=True)]
            size = w
        layers.append(nn.Linear(size, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, latent: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Logit ``(N,)`` that the pair (latent, whitened parameters) is a ground-truth pair."""
        return self.body(torch.cat([latent, params], dim=1)).squeeze(1)
