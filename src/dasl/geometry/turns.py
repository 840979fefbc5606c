"""Quarter turns of a photo: faces lying on their side or upside down are found and reconstructed in the
photo turned by ``k`` quarter turns (``np.rot90(photo, k)``: counterclockwise as seen, lossless), and their
results turned back.

A photo of ``width`` x ``height`` pixels turned by ``k`` maps a 0-based pixel ``(x, y)`` to

* ``k = 1``: ``(y, width - 1 - x)``;
* ``k = 2``: ``(width - 1 - x, height - 1 - y)``;
* ``k = 3``: ``(height - 1 - y, x)``

(:func:`turn_matrix`). Depth is unchanged: a turn in the picture's plane is a rotation about the camera's
axis, so parameters of the turned photo's model frame (:func:`turn_params`) stay a scaled rotation.
"""

from __future__ import annotations

import numpy as np

from dasl.geometry.params import affine_params


def turned_size(k: int, width: int, height: int) -> tuple[int, int]:
    """``(width, height)`` of a photo turned by ``k`` quarter turns."""
    return (height, width) if k % 2 else (width, height)


def turn_image(image: np.ndarray, k: int) -> np.ndarray:
    """The photo turned by ``k`` quarter turns, counterclockwise as seen (a view when ``k % 4 == 0``)."""
    return image if k % 4 == 0 else np.ascontiguousarray(np.rot90(image, k % 4))


def turn_matrix(k: int, width: int, height: int) -> np.ndarray:
    """``(2, 3)`` ``[M | b]``: 0-based pixels of a ``width`` x ``height`` photo to those of the photo turned by
    ``k`` quarter turns (see the module docstring)."""
    k %= 4
    if k == 0:
        return np.array([[1.0, 0, 0], [0, 1, 0]])
    if k == 1:
        return np.array([[0.0, 1, 0], [-1, 0, width - 1]])
    if k == 2:
        return np.array([[-1.0, 0, width - 1], [0, -1, height - 1]])
    return np.array([[0.0, -1, height - 1], [1, 0, 0]])


def turn_points(points: np.ndarray, k: int, width: int, height: int) -> np.ndarray:
    """Points ``(..., >=2)`` (0-based pixels, further columns such as depth unchanged) of a ``width`` x
    ``height`` photo in the photo turned by ``k``."""
    m = turn_matrix(k, width, height)
    out = np.array(points, dtype=np.float64)
    out[..., :2] = out[..., :2] @ m[:, :2].T + m[:, 2]
    return out


def unturn_points(points: np.ndarray, k: int, width: int, height: int) -> np.ndarray:
    """Inverse of :func:`turn_points`: points of the turned photo back in the ``width`` x ``height`` photo."""
    w, h = turned_size(k, width, height)
    return turn_points(points, -k, w, h)


def turn_boxes(boxes: np.ndarray, k: int, width: int, height: int) -> np.ndarray:
    """Boxes ``(N, >=4)`` ``[x0, y0, x1, y1, ...]`` (0-based pixels) of the photo, in the photo turned by ``k``
    (the turned corners' bounds; further columns unchanged)."""
    out = np.array(boxes, dtype=np.float64)
    corners = turn_points(out[:, :4].reshape(-1, 2, 2), k, width, height)
    out[:, :2], out[:, 2:4] = corners.min(1), corners.max(1)
    return out


def turn_params(params: np.ndarray, k: int, width: int, height: int) -> np.ndarray:
    """Parameters ``(N, 62)`` in the image model frame of a ``width`` x ``height`` photo (``y_model = H - y``
    for 0-based pixels, :mod:`dasl.geometry.frames`) to the model frame of the photo turned by ``k``."""
    _, turned_height = turned_size(k, width, height)
    # model -> pixels of the photo, the turn, pixels -> model of the turned photo (x_m = x + 1, y_m = H - y)
    to_pixels = np.array([[1.0, 0, -1], [0, -1, height], [0, 0, 1]])
    turn = np.vstack([turn_matrix(k, width, height), [0, 0, 1]])
    to_model = np.array([[1.0, 0, 1], [0, -1, turned_height], [0, 0, 1]])
    m = to_model @ turn @ to_pixels
    linear = np.eye(3)
    linear[:2, :2] = m[:2, :2]
    return affine_params(params, linear, np.array([m[0, 2], m[1, 2], 0.0]))


def unturn_params(params: np.ndarray, k: int, width: int, height: int) -> np.ndarray:
    """Inverse of :func:`turn_params`: parameters of the turned photo's model frame in the model frame of the
    ``width`` x ``height`` photo."""
    w, h = turned_size(k, width, height)
    return turn_params(params, -k, w, h)


def roll_turns(keypoints: np.ndarray) -> np.ndarray:
    """Quarter turns ``(N,)`` that bring faces upright, from their eye centres ``keypoints[:, 0]`` (the eye
    on the image's left in an upright face) and ``keypoints[:, 1]`` (0-based pixels): the eye line's angle
    rounded to quarter turns (a face whose eye line points down the image, lying on its right side as
    seen, needs ``k = 1``)."""
    d = np.asarray(keypoints, np.float64)[:, 1] - np.asarray(keypoints, np.float64)[:, 0]
    angle = np.degrees(np.arctan2(d[:, 1], d[:, 0]))  # 0: upright; 90: the eye line points down the image
    return np.round(angle / 90).astype(int) % 4
