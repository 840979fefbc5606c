"""Regressor backbones behind one registry: ``build_regressor(name, in_channels)``.

Every regressor maps ``(N, C, 120, 120)`` inputs (RGB, plus the landmark map when ``C = 4``) to 62
whitened 3DMM parameters. ResNet-50 is the paper's network (section 3.2); the MobileNets are the light
CPU backbones. All start from random weights (no download). torchvision, which holds the ResNets and
MobileNetV2/V3, is imported only when one of those is built (it takes about a second to import, and the
default MobileNetV1 does not need it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from dasl.errors import BadInputError, OptionError
from dasl.nets.mobilenet_v1 import MobileNetV1

N_OUTPUTS = 62


def _resnet50(in_channels: int) -> nn.Module:
    from torchvision import models

    net = models.resnet50(weights=None, num_classes=N_OUTPUTS)
    if in_channels != 3:
        net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return net


def _resnet18(in_channels: int) -> nn.Module:
    from torchvision import models

    net = models.resnet18(weights=None, num_classes=N_OUTPUTS)
    if in_channels != 3:
        net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return net


def _mobilenet_v2(in_channels: int) -> nn.Module:
    from torchvision import models

    net = models.mobilenet_v2(weights=None, num_classes=N_OUTPUTS)
    if in_channels != 3:
        first = net.features[0][0]
        net.features[0][0] = nn.Conv2d(
            in_channels, first.out_channels, first.kernel_size, first.stride, first.padding, bias=False
        )
    return net


def load_imagenet_mobilenet_v2(net: nn.Module, path: str | Path) -> None:
    """torchvision's ImageNet MobileNetV2 weights into a ``mobilenet_v2`` regressor (all but the last
    layer); a fourth input channel (the landmark map) starts at zero weight, so the network starts as the
    ImageNet one on RGB and learns what the map adds."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for unreadable files
        raise BadInputError(path, f"cannot read the ImageNet weights ({exc})") from exc
    own = net.state_dict()
    first = "features.0.0.weight"
    if first not in state or any(k not in state for k in own if not k.startswith("classifier")):
        raise BadInputError(path, "not torchvision's MobileNetV2 weights")
    weights = {k: state[k] for k in own if not k.startswith("classifier")}
    rgb = weights[first]
    if own[first].shape[1] != rgb.shape[1]:
        extra = torch.zeros(rgb.shape[0], own[first].shape[1] - rgb.shape[1], *rgb.shape[2:])
        weights[first] = torch.cat([rgb, extra], 1)
    net.load_state_dict(weights, strict=False)


def _mobilenet_v3(in_channels: int, size: str) -> nn.Module:
    from torchvision import models

    build = models.mobilenet_v3_small if size == "small" else models.mobilenet_v3_large
    net = build(weights=None, num_classes=N_OUTPUTS)
    first = net.features[0][0]
    if in_channels != 3:
        net.features[0][0] = nn.Conv2d(
            in_channels, first.out_channels, first.kernel_size, first.stride, first.padding, bias=False
        )
    return net


REGISTRY: dict[str, Callable[[int], nn.Module]] = {
    "resnet50": _resnet50,
    "resnet18": _resnet18,
    "mobilenet_v1": lambda c: MobileNetV1(width=1.0, in_channels=c, num_outputs=N_OUTPUTS),
    "mobilenet_v1_05": lambda c: MobileNetV1(width=0.5, in_channels=c, num_outputs=N_OUTPUTS),
    "mobilenet_v2": _mobilenet_v2,
    "mobilenet_v3_small": lambda c: _mobilenet_v3(c, "small"),
    "mobilenet_v3_large": lambda c: _mobilenet_v3(c, "large"),
}


def build_regressor(name: str, in_channels: int = 4) -> nn.Module:
    """A regressor by name (see :data:`REGISTRY`); ``in_channels`` 3 (RGB) or 4 (RGB + landmark map)."""
    if name not in REGISTRY:
        raise OptionError(f"unknown backbone {name!r}; known: {', '.join(REGISTRY)}")
    if in_channels not in (3, 4):
        raise OptionError(f"in_channels must be 3 or 4, not {in_channels}")
    net = REGISTRY[name](in_channels)
    _zero_last_layer(net)
    return net


def _zero_last_layer(net: nn.Module) -> None:
    """Start at the mean face in the mean pose: the last linear layer outputs whitened zeros."""
    last = [m for m in net.modules() if isinstance(m, nn.Linear)][-1]
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
