"""What a regressor sees: RGB crops (:func:`normalise_images`) plus, for 4-channel models, the landmark map
(FLM) of 18 landmarks.

Without given landmarks a 4-channel model runs *iterated*: a first pass on an empty map (all -1), then
passes on the map of its own predicted landmarks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from dasl.geometry.flm import landmark_map
from dasl.geometry.frames import crop_landmarks
from dasl.morphable.landmarks import to_subset18
from dasl.morphable.model import MorphableModel


def normalise_images(crops: np.ndarray | torch.Tensor) -> torch.Tensor:
    """RGB uint8 ``(B, H, W, 3)`` to float ``(B, 3, H, W)`` in about [-1, 1], ``(x - 127.5) / 128``: the
    input rule of every dasl network."""
    x = torch.as_tensor(crops)
    return x.permute(0, 3, 1, 2).float().sub(127.5).div(128.0)


def regressor_input(
    images: torch.Tensor, points18: torch.Tensor | None, visible18: torch.Tensor | None = None
) -> torch.Tensor:
    """``(B, 3, 120, 120)`` normalised images, plus the FLM of crop-frame ``points18`` ``(B, 18, 2)`` (only
    the ``visible18`` ones) as a fourth channel when given: ``(B, 4, 120, 120)``."""
    if points18 is None:
        return images
    pts = points18.detach()
    if visible18 is not None:
        pts = torch.where(visible18[..., None], pts, torch.full_like(pts, float("nan")))
    return torch.cat([images, landmark_map(pts).to(images)[:, None]], 1)


def empty_points(batch: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Landmarks and visibility that make an empty map."""
    return torch.zeros(batch, 18, 2, dtype=like.dtype, device=like.device), torch.zeros(
        batch, 18, dtype=torch.bool, device=like.device
    )


def predict_passes(
    forward: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    model: MorphableModel,
    points18: torch.Tensor | None = None,
    passes: int = 2,
) -> list[torch.Tensor]:
    """Whitened parameters ``(B, 62)`` after each of ``passes`` passes of a 4-channel model: the first on
    the map of ``points18`` (crop frame), or on an empty map without them; every further pass on the map
    of the previous pass's own landmarks."""
    if points18 is None:
        points, visible = empty_points(images.shape[0], images)
        out = [forward(regressor_input(images, points, visible))]
    else:
        out = [forward(regressor_input(images, points18))]
    for _ in range(passes - 1):
        own = torch.from_numpy(own_points18(out[-1].detach().cpu().numpy(), model)).to(images)
        out.append(forward(regressor_input(images, own)))
    return out


def predict_whitened(
    forward: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    model: MorphableModel,
    uses_map: bool,
    points18: torch.Tensor | None = None,
    passes: int = 2,
) -> torch.Tensor:
    """Whitened parameters ``(B, 62)``. ``points18`` (crop frame) feed the map of a 4-channel model (one
    pass); without them the model runs ``passes`` times, from an empty map, then on its own landmarks."""
    if not uses_map:
        return forward(images)
    if points18 is not None:
        return forward(regressor_input(images, points18))
    return predict_passes(forward, images, model, None, passes)[-1]


def own_points18(whitened: np.ndarray, model: MorphableModel) -> np.ndarray:
    """The 18 crop-frame landmarks ``(B, 18, 2)`` of whitened parameters, computed in float64 so that
    every backend draws the same map from the same prediction."""
    raw = model.unwhiten(np.asarray(whitened, dtype=np.float64))
    return to_subset18(crop_landmarks(model, raw)[..., :2])
