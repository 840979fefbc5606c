"""dasl's 2D landmark detector (the role FAN plays in the paper): 68 heatmaps on the 120x120 crop.

A MobileNetV2 body (torchvision's layout, so ImageNet weights fit it) with a light feature-pyramid
decoder: the body's stride-4, 8, 16 and 32 features are merged top-down into 30x30 maps (one cell = 4 crop
pixels), and a 3x3 convolution gives one heatmap per landmark. Coordinates come from the heatmaps by a
soft-argmax (the expectation of the softmax over the cells, :func:`dasl.nets.heatmaps.soft_argmax`): differentiable and
sub-pixel. Training (``dasl.train.landmark_loop``) puts an L1 loss on those coordinates and a
cross-entropy to a Gaussian on the softmax, as DSNT does (Nibali et al. 2018).

Input: ``(N, 3, 120, 120)`` normalised like every dasl network (:func:`dasl.nets.inputs.normalise_images`);
output: logits ``(N, 68, 30, 30)``. Coordinates are in the crop frame (:mod:`dasl.geometry.frames`).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from dasl.checkpoint import load_checkpoint
from dasl.errors import BadInputError
from dasl.nets.heatmaps import STRIDE, cell_centres
from dasl.nets.model_file import LANDMARK_FORMAT, LandmarkMeta, load_weights_file, save_weights_file

N_LANDMARKS = 68
#: where the body's stride-4, 8, 16 and 32 features leave ``features`` (and their channels)
_TAPS = (3, 6, 13, 17)
_TAP_CHANNELS = (24, 32, 96, 320)


#: MobileNetV2's inverted-residual stages (expansion t, channels c, repeats n, first stride s), the
#: published architecture (Sandler et al. 2018), up to the stride-32 stage the decoder taps
_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def _conv_bn_relu6(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class _InvertedResidual(nn.Module):
    """Expand (1x1), depthwise 3x3, project (1x1, linear); a shortcut where the shape allows."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        layers = [_conv_bn_relu6(cin, hidden, 1)] if expand != 1 else []
        layers += [_conv_bn_relu6(hidden, hidden, 3, stride, hidden), nn.Conv2d(hidden, cout, 1, bias=False)]
        self.conv = nn.Sequential(*layers, nn.BatchNorm2d(cout))
        self.shortcut = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.shortcut else self.conv(x)


def mobilenet_v2_body() -> nn.Sequential:
    """MobileNetV2's feature layers 0-17 with the parameter names of torchvision's ``features`` (so its
    ImageNet weights load), built here: importing torchvision takes 1 to 3.5 s, which every
    ``dasl reconstruct`` would pay."""
    layers: list[nn.Module] = [_conv_bn_relu6(3, 32, 3, 2)]
    cin = 32
    for expand, cout, repeats, stride in _STAGES:
        for k in range(repeats):
            layers.append(_InvertedResidual(cin, cout, stride if k == 0 else 1, expand))
            cin = cout
    return nn.Sequential(*layers)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class LandmarkNet(nn.Module):
    """68 landmark heatmaps from a crop (see the module docstring); ``width`` channels in the decoder."""

    def __init__(self, width: int = 96, landmarks: int = N_LANDMARKS) -> None:
        super().__init__()
        self.body = mobilenet_v2_body()
        self.lateral = nn.ModuleList(nn.Conv2d(c, width, 1) for c in _TAP_CHANNELS)
        self.smooth = nn.ModuleList(_block(width, width) for _ in _TAPS[:-1])
        self.head = nn.Conv2d(width, landmarks, 3, padding=1)

    def load_imagenet(self, path: str | Path) -> None:
        """The body's weights from torchvision's ImageNet MobileNetV2 file (``mobilenet_v2-b0353104.pth``)."""
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several types for unreadable files
            raise BadInputError(path, f"cannot read the ImageNet weights ({exc})") from exc
        body = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
        own = self.body.state_dict()
        missing = [k for k in own if k not in body]
        if missing:
            raise BadInputError(path, f"not torchvision's MobileNetV2 weights (missing {missing[:3]})")
        self.body.load_state_dict({k: body[k] for k in own})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        taps = []
        for i, layer in enumerate(self.body):
            x = layer(x)
            if i in _TAPS:
                taps.append(x)
        top = self.lateral[-1](taps[-1])
        for k in range(len(taps) - 2, -1, -1):
            lateral = self.lateral[k](taps[k])
            top = self.smooth[k](lateral + F.interpolate(top, size=lateral.shape[-2:], mode="nearest"))
        return self.head(top)


def gaussian_targets(points: torch.Tensor, size: int, sigma: float = 1.0) -> torch.Tensor:
    """Normalised Gaussian heatmaps ``(N, K, size, size)`` centred on crop-frame ``points`` ``(N, K, 2)``
    (``sigma`` in cells), the DSNT regulariser's target."""
    centres = cell_centres(size, points)
    gx = torch.exp(-0.5 * ((centres[None, None, :] - points[..., :1]) / (sigma * STRIDE)) ** 2)  # (N, K, W)
    gy = torch.exp(-0.5 * ((centres[None, None, :] - points[..., 1:2]) / (sigma * STRIDE)) ** 2)  # (N, K, H)
    heat = gy[..., :, None] * gx[..., None, :]
    return heat / heat.flatten(2).sum(-1).clamp_min(1e-12)[..., None, None]


def save_landmark_file(path: str | Path, state: dict[str, torch.Tensor], meta: LandmarkMeta, half=False) -> Path:
    """A landmark detector's model file (weights + :class:`LandmarkMeta`)."""
    return save_weights_file(path, state, meta.to_json(), LANDMARK_FORMAT, half)


def load_landmark_net(path: str | Path) -> tuple[LandmarkNet, LandmarkMeta]:
    """The detector of a model file (or of a training checkpoint ``.pt``), ready for inference (eval mode,
    float32)."""
    path = Path(path)
    if path.suffix == ".pt":
        checkpoint = load_checkpoint(path)
        if "landmarker" not in checkpoint:
            raise BadInputError(path, "not a landmark detector's checkpoint")
        state, meta_dict = checkpoint["landmarker"], checkpoint["meta"]
    else:
        state, meta_dict = load_weights_file(path, LANDMARK_FORMAT, "dasl landmark detector file")
    meta = LandmarkMeta.from_dict(meta_dict)
    net = LandmarkNet(meta.width)
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise BadInputError(path, f"weights do not fit a landmark detector of width {meta.width} ({exc})") from exc
    return net.eval(), meta
