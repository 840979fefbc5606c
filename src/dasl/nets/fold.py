"""Batch norm folded into the convolution before it, for inference: ``bn(conv(x))`` becomes one convolution
with scaled weights and a bias, and the batch norm an identity (the same function in eval mode, one layer
less to run; dasl's networks spend about a tenth of their CPU time in batch norm at batch 1).

A pair is a ``Conv2d`` directly followed by a ``BatchNorm2d`` in an ``nn.Sequential`` (torchvision's
MobileNetV2 layout, the landmark detector's decoder, ResNet's downsample branch), or the children
``convX`` / ``bnX`` (``conv1`` / ``bn1``, ``conv_dw`` / ``bn_dw``) of one module whose forward applies the
batch norm to that convolution's output (dasl's MobileNetV1, torchvision's ResNet blocks).
``tests/test_fold.py`` checks every network dasl builds gives the same output folded.
"""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def _fold_pair(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    conv.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias)


def _pairs(module: nn.Module) -> list[tuple[str, str]]:
    children = dict(module.named_children())
    if isinstance(module, nn.Sequential):
        names = list(children)
        return [
            (a, b)
            for a, b in zip(names, names[1:], strict=False)
            if isinstance(children[a], nn.Conv2d) and isinstance(children[b], nn.BatchNorm2d)
        ]
    return [
        (name, "bn" + name[len("conv") :])
        for name, child in children.items()
        if name.startswith("conv")
        and isinstance(child, nn.Conv2d)
        and isinstance(children.get("bn" + name[len("conv") :]), nn.BatchNorm2d)
    ]


def fold_batchnorm(net: nn.Module) -> nn.Module:
    """``net`` (in place, put in eval mode) with every conv + batch-norm pair folded; returns it."""
    net.eval()
    for module in list(net.modules()):
        for conv_name, bn_name in _pairs(module):
            _fold_pair(getattr(module, conv_name), getattr(module, bn_name))
            setattr(module, bn_name, nn.Identity())
    return net
