"""The pixel frames dasl works in, and every conversion between them, named once.

Full statement in ``docs/conventions.md`` ("Frames"); in short:

* **pixels** (the public API, OpenCV, the rasteriser): 0-based, x right, y down; the top-left pixel's
  centre is ``(0, 0)``. Every :class:`dasl.api.Face` is in the photo's pixels.
* **image frame** (AFLW2000-3D / 300W-LP ``.mat`` files, the benchmark, ROI boxes): the same axes,
  1-based: the top-left pixel's centre is ``(1, 1)``. ``image = pixels + 1``.
* **crop frame** (networks, landmark maps, training labels): coordinates in the 120x120 crop, y down,
  tied to the image frame by a ROI box ``[sx, sy, ex, ey]``::

      x_img = sx + x_crop * (ex - sx) / 120        y_img = sy + y_crop * (ey - sy) / 120
      z_img = z_crop * (ex - sx) / 120

  Crop pixel ``j`` (0-based) spans ``[j, j+1)``: ``crop = crop pixels + 0.5``. A 120x120 crop file is its
  own photo, and its image frame maps to its crop frame with the box :data:`CROP_ROI`.
* **model frame** (the 3DMM's ``V = f R S + t``): the crop frame's x and z, y up:
  ``y_crop = 120 + 1 - y_model`` (:func:`flip_y`, MATLAB heritage of 3DDFA).

Depth (a third coordinate) is never shifted between pixels and image frame; it scales with x.
"""

from __future__ import annotations

import numpy as np

from dasl.morphable.layout import CROP_SIZE, Array
from dasl.morphable.model import MorphableModel

#: the image frame of a 120x120 crop file as a ROI box: ``crop_to_image(p, CROP_ROI) == p + 0.5``
CROP_ROI = np.array([0.5, 0.5, CROP_SIZE + 0.5, CROP_SIZE + 0.5])
#: 0-based pixels -> image frame (x and y; depth unchanged)
PIXEL_TO_IMAGE = 1.0
#: 0-based crop pixels -> crop frame (pixel ``j`` spans ``[j, j+1)``)
CROP_PIXEL_TO_CROP = 0.5


def _shift_xy(points: np.ndarray, offset: float) -> np.ndarray:
    out = np.array(points, dtype=np.result_type(np.asarray(points).dtype, np.float64))
    out[..., :2] += offset
    return out


def pixels_to_image(points: np.ndarray) -> np.ndarray:
    """0-based pixels ``(..., >=2)`` (x, y first) to the 1-based image frame."""
    return _shift_xy(points, PIXEL_TO_IMAGE)


def image_to_pixels(points: np.ndarray) -> np.ndarray:
    """Image-frame points ``(..., >=2)`` to 0-based pixels (inverse of :func:`pixels_to_image`)."""
    return _shift_xy(points, -PIXEL_TO_IMAGE)


def boxes_pixels_to_image(boxes: np.ndarray) -> np.ndarray:
    """Boxes ``(..., >=4)`` ``[x0, y0, x1, y1, ...]`` in 0-based pixels to the image frame (further columns,
    such as scores, unchanged)."""
    out = np.array(boxes, dtype=np.float64)
    out[..., :4] += PIXEL_TO_IMAGE
    return out


def boxes_image_to_pixels(boxes: np.ndarray) -> np.ndarray:
    """Inverse of :func:`boxes_pixels_to_image`."""
    out = np.array(boxes, dtype=np.float64)
    out[..., :4] -= PIXEL_TO_IMAGE
    return out


def crop_pixels_to_crop(points: np.ndarray) -> np.ndarray:
    """0-based crop pixels ``(..., >=2)`` to the crop frame: ``+ 0.5`` (pixel ``j`` spans ``[j, j+1)``)."""
    return _shift_xy(points, CROP_PIXEL_TO_CROP)


def crop_to_crop_pixels(points: np.ndarray) -> np.ndarray:
    """Crop-frame points ``(..., >=2)`` to 0-based crop pixels (inverse of :func:`crop_pixels_to_crop`).
    The same map takes the image frame of a 120x120 crop file to its crop frame."""
    return _shift_xy(points, -CROP_PIXEL_TO_CROP)


def resize_pixels(points: np.ndarray, factor: float) -> np.ndarray:
    """0-based pixels ``(..., >=2)`` of a photo to those of the photo resized by ``factor``: pixel edges
    scale, so ``x' = (x + 0.5) * factor - 0.5`` (depth, if any, scales by ``factor``)."""
    out = np.array(points, dtype=np.float64)
    out[..., :2] = (out[..., :2] + 0.5) * factor - 0.5
    out[..., 2:] *= factor
    return out


def flip_y(points: Array, size: int = CROP_SIZE) -> Array:
    """Model frame <-> crop frame: ``y -> size + 1 - y`` on ``(..., K, D)`` points (an involution). With
    ``size`` a photo's height it maps the image model frame to the image frame."""
    out = points.clone() if hasattr(points, "clone") else points.copy()
    out[..., 1] = size + 1 - points[..., 1]
    return out


def crop_landmarks(model: MorphableModel, params: Array) -> Array:
    """The 68 landmarks ``(N, 68, 3)`` of raw parameters ``(N, 62)`` in the crop frame (numpy, or torch and
    differentiable); with image-model-frame parameters use :func:`image_landmarks`."""
    return flip_y(model.landmarks(params))


def image_landmarks(model: MorphableModel, params: np.ndarray, image_height: int | float) -> np.ndarray:
    """The 68 landmarks ``(N, 68, 3)`` of image-model-frame parameters in the image frame of a photo of
    ``image_height`` rows."""
    return flip_y(model.landmarks(params), size=image_height)


def mirror_x(points: np.ndarray, order: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Crop-frame points ``(..., K, >=2)`` of a face to those of its horizontally mirrored crop:
    ``x -> size - x`` (crop pixel ``j`` spans ``[j, j+1)``), relabelled with the permutation ``order``
    (``FLIP_68`` or ``FLIP_18``: the left eye of the mirror image is the right eye of the face)."""
    out = np.take(np.asarray(points, dtype=np.float64), order, axis=-2)
    out[..., 0] = size - out[..., 0]
    return out


#: crop frames of the 3DDFA family: dasl's (3DDFA's, ``y_crop = 121 - y_model``) and 3DDFA_V2's, which maps
#: model-frame points with ``x - 1``, ``y = 120 - y`` before the same ROI map: one pixel up and left
CROP_FRAME_OFFSETS = {"3ddfa": 0.0, "3ddfa-v2": -1.0}


def model_to_crop(points: Array, frame: str = "3ddfa") -> Array:
    """Model-frame points ``(..., K, D)`` to the crop frame of ``frame`` (:data:`CROP_FRAME_OFFSETS`):
    ``flip_y``, then the frame's offset in x and y."""
    out = flip_y(points)
    offset = CROP_FRAME_OFFSETS[frame]
    if offset:
        out[..., :2] += offset
    return out


def _box_scales(roi: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r = np.asarray(roi, dtype=np.float64)
    sx, sy = r[..., 0, None], r[..., 1, None]
    scale_x = (r[..., 2, None] - r[..., 0, None]) / size
    scale_y = (r[..., 3, None] - r[..., 1, None]) / size
    return sx, sy, scale_x, scale_y


def crop_to_image(points: np.ndarray, roi: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Crop-frame points ``(N, K, 2|3)`` to the image frame with the ROI boxes ``(N, 4)``."""
    sx, sy, scale_x, scale_y = _box_scales(roi, size)
    out = np.array(points, dtype=np.result_type(points, np.float32))
    out[..., 0] = sx + out[..., 0] * scale_x
    out[..., 1] = sy + out[..., 1] * scale_y
    if out.shape[-1] > 2:
        out[..., 2] = out[..., 2] * scale_x
    return out


def image_to_crop(points: np.ndarray, roi: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Image-frame points ``(N, K, 2|3)`` to the crop frame of the ROI boxes ``(N, 4)``."""
    sx, sy, scale_x, scale_y = _box_scales(roi, size)
    out = np.array(points, dtype=np.float64)
    out[..., 0] = (out[..., 0] - sx) / scale_x
    out[..., 1] = (out[..., 1] - sy) / scale_y
    if out.shape[-1] > 2:
        out[..., 2] = out[..., 2] / scale_x
    return out


def crop_to_pixels(points: np.ndarray, roi: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Crop-frame points ``(N, K, 2|3)`` to 0-based pixels of the photo the ROI boxes ``(N, 4)`` cut."""
    return image_to_pixels(crop_to_image(points, roi, size))
