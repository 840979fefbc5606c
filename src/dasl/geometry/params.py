"""Moving 62-d parameters between frames: the image's model frame and a crop's model frame.

Ground truth of 300W-LP / AFLW2000-3D (``Pose_Para``) places a face in the *image model frame*:
``V = s R S + t`` with the image row ``y_img = H + 1 - y`` (1-based, ``H`` the photo's height). A crop's
*model frame* is the one networks regress in (see :mod:`dasl.geometry.crop`). Both maps are affine in
``V``, so they act on the 12 pose parameters only: ``f R -> A f R`` and ``t -> A t + b``.
"""

from __future__ import annotations

import numpy as np

from dasl.geometry.crop import CROP_SIZE
from dasl.morphable import layout


def _apply(params: np.ndarray, linear: np.ndarray, offset: np.ndarray) -> np.ndarray:
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
    return _apply(params, linear, offset)


def crop_to_image_params(
    params: np.ndarray, roi: np.ndarray, image_height: np.ndarray | float, size: int = CROP_SIZE
) -> np.ndarray:
    """Inverse of :func:`image_to_crop_params`."""
    linear, offset = _roi_map(roi, image_height, size)
    inverse = np.linalg.inv(linear)
    return _apply(params, inverse, -(inverse @ offset[..., None])[..., 0])
