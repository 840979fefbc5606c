"""Moving 62-d parameters between frames: the image's model frame and a crop's model frame.

Ground truth of 300W-LP / AFLW2000-3D (``Pose_Para``) places a face in the *image model frame*:
``V = s R S + t`` with the image row ``y_img = H + 1 - y`` (1-based, ``H`` the photo's height). A crop's
*model frame* is the one networks regress in (see :mod:`dasl.geometry.crop`). Both maps are affine in
``V``, so they act on the 12 pose parameters only: ``f R -> A f R`` and ``t -> A t + b``.
"""

from __future__ import annotations

import numpy as np

from dasl.geometry.frames import CROP_SIZE
from dasl.morphable import layout


def affine_params(params: np.ndarray, linear: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Parameters ``(N, 62)`` of the faces ``linear @ V + offset`` (``(N, 3, 3)``, ``(N, 3)`` or unbatched)."""
    p = np.array(params, dtype=np.float64)
    scaled_rotation, translation = layout.affine(p)
    pose = np.concatenate(
        [linear @ scaled_rotation, (linear @ translation[..., None])[..., 0][..., None] + offset[..., None]], -1
    )
    p[..., layout.POSE] = pose.reshape(*p.shape[:-1], 12)
    return p


def _roi_map(roi: np.ndarray, image_height: np.ndarray | float, size: int):
    r = np.asarray(roi, dtype=np.float64)
    sx, sy = r[..., 0], r[..., 1]
    scale_x = (r[..., 2] - r[..., 0]) / size
    scale_y = (r[..., 3] - r[..., 1]) / size
    h = np.broadcast_to(np.asarray(image_height, dtype=np.float64), sx.shape)
    # crop model frame = diag(1/sx_, 1/sy_, 1/sx_) * image model frame + offset
    linear = np.zeros((*sx.shape, 3, 3))
    linear[..., 0, 0] = 1 / scale_x
    linear[..., 1, 1] = 1 / scale_y
    linear[..., 2, 2] = 1 / scale_x
    offset = np.stack([-sx / scale_x, size + 1 - (h + 1 - sy) / scale_y, np.zeros_like(sx)], -1)
    return linear, offset


def image_to_crop_params(
    params: np.ndarray, roi: np.ndarray, image_height: np.ndarray | float, size: int = CROP_SIZE
) -> np.ndarray:
    """Parameters ``(N, 62)`` in the image model frame to the model frame of the crops ``roi`` ``(N, 4)``."""
    linear, offset = _roi_map(roi, image_height, size)
    return affine_params(params, linear, offset)


def crop_to_image_params(
    params: np.ndarray, roi: np.ndarray, image_height: np.ndarray | float, size: int = CROP_SIZE
) -> np.ndarray:
    """Inverse of :func:`image_to_crop_params`."""
    linear, offset = _roi_map(roi, image_height, size)
    inverse = np.linalg.inv(linear)
    return affine_params(params, inverse, -(inverse @ offset[..., None])[..., 0])


def crop_similarity_params(
    params: np.ndarray, scale: float, shift: tuple[float, float], angle: float = 0.0, size: int = CROP_SIZE
) -> np.ndarray:
    """Parameters after the crop-frame map ``x' = scale * R(angle) (x - c) + c + shift`` (``c`` the crop's
    centre, depth scaled by ``scale``), i.e. the labels of a crop zoomed by ``scale``, turned by ``angle``
    degrees (positive: clockwise as seen in the image, whose y axis points down) about its centre and moved
    by ``shift``. In the y-up model frame the same turn is a rotation by ``-angle`` about z."""
    c = size / 2
    centre_model = size + 1 - c  # the crop centre's y in the model frame (y_model = size + 1 - y_crop)
    a = np.radians(angle)
    cos, sin = np.cos(a), np.sin(a)
    linear = scale * np.array([[cos, sin, 0.0], [-sin, cos, 0.0], [0.0, 0.0, 1.0]])
    offset = np.array([c + shift[0], centre_model - shift[1], 0.0]) - linear @ np.array([c, centre_model, 0.0])
    return affine_params(params, linear, offset)


def crop_similarity_matrix(scale: float, shift: tuple[float, float], angle: float = 0.0, size: int = CROP_SIZE):
    """The same map on crop-frame points: ``(2, 3)`` ``[M | b]`` with ``x' = M x + b``."""
    c = size / 2
    a = np.radians(angle)
    m = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return np.column_stack([m, np.array([c, c]) + np.asarray(shift) - m @ np.array([c, c])])
