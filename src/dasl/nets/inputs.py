"""What a regressor sees: RGB crops (:func:`normalise_images`) plus, for 4-channel models, the landmark map
(FLM) of 18 landmarks.

Without given landmarks a 4-channel model runs *iterated*: a first pass on an empty map (all -1), then
passes on the map of its own predicted landmarks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dasl.geometry.flm import landmark_map
from dasl.geometry.frames import crop_landmarks
from dasl.morphable.landmarks import to_subset18
from dasl.morphable.layout import Array, torch_if_tensor
from dasl.morphable.model import MorphableModel


def normalise_images(crops: np.ndarray) -> np.ndarray:
    """RGB uint8 ``(B, H, W, 3)`` to float32 ``(B, 3, H, W)`` in about [-1, 1], ``(x - 127.5) / 128``: the
    input rule of every dasl network (NumPy; ``torch.from_numpy`` shares its memory)."""
    x = np.asarray(crops).transpose(0, 3, 1, 2).astype(np.float32)
    x -= 127.5
    x /= 128.0
    return x


def denormalise_images(images: np.ndarray) -> np.ndarray:
    """Inverse of :func:`normalise_images`: float ``(B, 3, H, W)`` to RGB uint8 ``(B, H, W, 3)`` (exact for
    images normalised from uint8)."""
    x = np.asarray(images, dtype=np.float32) * 128.0 + 127.5
    return np.clip(np.rint(x), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


def regressor_input(images: Array, points18: Array | None, visible18: Array | None = None) -> Array:
    """``(B, 3, 120, 120)`` normalised images, plus the FLM of crop-frame ``points18`` ``(B, 18, 2)`` (only
    the ``visible18`` ones) as a fourth channel when given: ``(B, 4, 120, 120)``. NumPy arrays or torch
    tensors (training), the output of the images' kind."""
    if points18 is None:
        return images
    torch = torch_if_tensor(images)
    if torch is None:
        pts = np.asarray(points18)
        if visible18 is not None:
            pts = np.where(np.asarray(visible18)[..., None], pts, np.nan)
        return np.concatenate([images, landmark_map(pts).astype(images.dtype)[:, None]], 1)
    pts = points18.detach()
    if visible18 is not None:
        pts = torch.where(visible18[..., None], pts, torch.full_like(pts, float("nan")))
    return torch.cat([images, landmark_map(pts).to(images)[:, None]], 1)


def _empty_map_input(images: Array) -> Array:
    """The input of a first pass without landmarks: the images and an all -1 map."""
    torch = torch_if_tensor(images)
    if torch is None:
        return np.concatenate([images, np.full_like(images[:, :1], -1.0)], 1)
    return torch.cat([images, torch.full_like(images[:, :1], -1.0)], 1)


def predict_passes(
    forward: Callable[[Array], Array],
    images: Array,
    model: MorphableModel,
    points18: Array | None = None,
    passes: int = 2,
) -> list[Array]:
    """Whitened parameters ``(B, 62)`` after each of ``passes`` passes of a 4-channel model: the first on
    the map of ``points18`` (crop frame), or on an empty map without them; every further pass on the map
    of the previous pass's own landmarks. ``forward`` takes and gives the images' kind of array."""
    if points18 is None:
        out = [forward(_empty_map_input(images))]
    else:
        out = [forward(regressor_input(images, points18))]
    torch = torch_if_tensor(images)
    for _ in range(passes - 1):
        if torch is None:
            own = own_points18(out[-1], model).astype(images.dtype)
        else:
            own = torch.from_numpy(own_points18(out[-1].detach().cpu().numpy(), model)).to(images)
        out.append(forward(regressor_input(images, own)))
    return out


def predict_whitened(
    forward: Callable[[Array], Array],
    images: Array,
    model: MorphableModel,
    uses_map: bool,
    points18: Array | None = None,
    passes: int = 2,
) -> Array:
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
