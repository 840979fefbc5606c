"""Axis-aligned boxes ``[x0, y0, x1, y1]`` (any one frame for both boxes)."""

from __future__ import annotations

import numpy as np


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boxes ``(>=4,)`` (0 when they do not overlap or are empty)."""
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, min_area: bool = False) -> np.ndarray:
    """Greedy non-maximum suppression: indices of the boxes ``(N, >=4)`` kept, best score first; a box is
    dropped when it overlaps a kept one by more than ``threshold``, as intersection over union, or with
    ``min_area`` over the smaller box's area. Boxes have inclusive corners (side ``x1 - x0 + 1``, MTCNN's)."""
    b = np.asarray(boxes, np.float64)
    if len(b) == 0:
        return np.zeros(0, dtype=int)
    area = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep = []
    while len(order):
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(b[i, 2], b[rest, 2]) - np.maximum(b[i, 0], b[rest, 0]) + 1)
        h = np.maximum(0.0, np.minimum(b[i, 3], b[rest, 3]) - np.maximum(b[i, 1], b[rest, 1]) + 1)
        inter = w * h
        overlap = inter / np.minimum(area[i], area[rest]) if min_area else inter / (area[i] + area[rest] - inter)
        order = rest[overlap <= threshold]
    return np.array(keep, dtype=int)
