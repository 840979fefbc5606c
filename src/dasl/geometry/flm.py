"""The facial landmark map (FLM), 2DASL's fourth input channel (paper section 3.2).

A ``size x size`` image that is +1 at the pixels holding a landmark and -1 elsewhere. Landmarks are in the
crop frame (see :mod:`dasl.geometry.crop`): the pixel of a point is ``(floor(y), floor(x))`` (row, column,
0-based), clipped into the map so that points just outside the crop still mark its border.
"""

from __future__ import annotations

import numpy as np

from dasl.geometry.frames import CROP_SIZE
from dasl.morphable.layout import Array, torch_if_tensor


def landmark_pixels(points: Array, size: int = CROP_SIZE) -> Array:
    """Integer pixel ``(column, row)`` of crop-frame points ``(..., K, >=2)``, clipped to the map."""
    if torch_if_tensor(points) is not None:
        return points[..., :2].floor().long().clamp(0, size - 1)
    return np.clip(np.floor(points[..., :2]), 0, size - 1).astype(np.int64)


def landmark_map(points: Array, size: int = CROP_SIZE) -> Array:
    """FLM ``(N, size, size)`` float32 from crop-frame landmarks ``(N, K, >=2)`` (numpy or torch).

    Non-finite points (missing landmarks) are left out.
    """
    torch = torch_if_tensor(points)
    n, k = points.shape[0], points.shape[1]
    if torch is not None:
        finite = torch.isfinite(points[..., :2]).all(-1)
        pix = landmark_pixels(torch.nan_to_num(points, nan=0.0, posinf=0.0, neginf=0.0), size)
        out = torch.full((n, size, size), -1.0, dtype=torch.float32, device=points.device)
        batch = torch.arange(n, device=points.device)[:, None].expand(n, k)
        out[batch[finite], pix[..., 1][finite], pix[..., 0][finite]] = 1.0
        return out
    pts = np.asarray(points)
    finite = np.isfinite(pts[..., :2]).all(-1)
    pix = landmark_pixels(np.nan_to_num(pts), size)
    out = np.full((n, size, size), -1.0, dtype=np.float32)
    batch = np.broadcast_to(np.arange(n)[:, None], (n, k))
    out[batch[finite], pix[..., 1][finite], pix[..., 0][finite]] = 1.0
    return out
