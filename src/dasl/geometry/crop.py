"""The 3DDFA crop protocol: ROI boxes and 120x120 crops (the frames they connect: :mod:`dasl.geometry.frames`).

A ROI box ``[sx, sy, ex, ey]`` (image frame) covers the image pixels ``sx..ex`` and ``sy..ey`` inclusive
(1-based), as the AFLW2000-3D crops do (checked against the stored crops in the tests).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from dasl.geometry.frames import CROP_PIXEL_TO_CROP, CROP_SIZE
from dasl.morphable.layout import torch_if_tensor

#: side of the landmark ROI relative to the larger side of the landmarks' bounding box (3DDFA)
LANDMARK_ROI_EXPAND = math.sqrt(2.0)


def roi_from_landmarks(
    points: np.ndarray,
    image_size: tuple[int, int] | None = None,
    expand: float = LANDMARK_ROI_EXPAND,
) -> np.ndarray:
    """Square ROI boxes ``(N, 4)`` ``[sx, sy, ex, ey]`` from landmarks ``(N, K, >=2)`` (image frame).

    The AFLW2000-3D rule: centre of the landmarks' bounding box, side ``expand`` times its larger side,
    corners rounded to whole pixels (the side is rounded separately, so every box is square).
    With ``image_size = (width, height)`` the box is clipped to ``[1, width] x [1, height]``, which is how
    the benchmark's stored boxes were made (clipped boxes are then no longer square).
    """
    pts = np.asarray(points, dtype=np.float64)[..., :2]
    lo, hi = pts.min(-2), pts.max(-2)
    centre = (lo + hi) / 2
    side = expand * (hi - lo).max(-1)
    start = np.round(centre - side[..., None] / 2)
    box = np.concatenate([start, start + np.round(side)[..., None]], -1)
    if image_size is not None:
        width, height = image_size
        box = np.clip(box, 1, [width, height, width, height])
    return box


def roi_from_box(boxes: np.ndarray, scale: float = 1.58, shift: float = 0.14) -> np.ndarray:
    """Square ROI boxes ``(N, 4)`` from face-detector boxes ``(N, >=4)`` ``[x0, y0, x1, y1]`` (image frame).

    3DDFA_V2's rule for FaceBoxes: side ``scale`` times the mean of width and height, centre moved down by
    ``shift`` times that mean (detector boxes sit higher than the landmarks).
    """
    b = np.asarray(boxes, dtype=np.float64)[..., :4]
    mean_side = (b[..., 2] - b[..., 0] + b[..., 3] - b[..., 1]) / 2
    cx = (b[..., 0] + b[..., 2]) / 2
    cy = (b[..., 1] + b[..., 3]) / 2 + shift * mean_side
    half = np.round(scale * mean_side) / 2
    start = np.round(np.stack([cx - half, cy - half], -1))
    return np.concatenate([start, start + 2 * half[..., None]], -1)


def crop_image(image: np.ndarray, roi: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Cut the ROI ``[sx, sy, ex, ey]`` (image frame, inclusive, rounded) and resize it to ``size``.

    ``image`` is ``(H, W)`` or ``(H, W, C)``; parts of the box outside the photo are black. Resampling is
    area-averaging (``cv2.INTER_AREA``), which reproduces the benchmark's stored crops to within their
    JPEG noise.
    """
    sx, sy, ex, ey = (int(v) for v in np.round(np.asarray(roi, dtype=np.float64)[:4]))
    if ex < sx or ey < sy:
        raise ValueError(f"empty ROI box {roi}")
    h, w = image.shape[:2]
    out = np.zeros((ey - sy + 1, ex - sx + 1, *image.shape[2:]), dtype=image.dtype)
    # 0-based, end-exclusive ranges of the box and of its part inside the image
    x0, y0, x1, y1 = sx - 1, sy - 1, ex, ey
    ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if ix1 > ix0 and iy1 > iy0:
        out[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = image[iy0:iy1, ix0:ix1]
    return cv2.resize(out, (size, size), interpolation=cv2.INTER_AREA)


def zoom_crops(crops: np.ndarray, factor: float) -> np.ndarray:
    """Crops ``(N, S, S, C)`` zoomed by ``factor`` about the crop frame's centre (borders replicated): a
    crop-frame point ``p`` of a crop lands at ``factor * (p - S/2) + S/2`` of its zoomed crop
    (:func:`unzoom_points`)."""
    c = crops.shape[1] / 2 - CROP_PIXEL_TO_CROP  # the centre in OpenCV's pixel-centre coordinates
    m = np.array([[factor, 0, c - c * factor], [0, factor, c - c * factor]], np.float32)
    size = (crops.shape[2], crops.shape[1])
    return np.stack(
        [cv2.warpAffine(x, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) for x in crops]
    ).reshape(crops.shape)


def unzoom_points(points: np.ndarray, factor: float, size: int = CROP_SIZE) -> np.ndarray:
    """Crop-frame points of a crop zoomed by ``factor`` (:func:`zoom_crops`) back to the crop's frame (a
    torch tensor stays one; anything else becomes float64 NumPy)."""
    if torch_if_tensor(points) is None:
        points = np.asarray(points, dtype=np.float64)
    return (points - size / 2) / factor + size / 2
